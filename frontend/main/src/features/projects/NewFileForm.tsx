import { useState } from 'react';

/** A new file in the project by its path (`test/03-more.sql`); it opens in a tab once created. */
export function NewFileForm({ busy, onCreate }: { busy: boolean; onCreate(path: string): Promise<boolean> }) {
  const [path, setPath] = useState('');
  return (
    <details>
      <summary>New file…</summary>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void onCreate(path.trim()).then((created) => created && setPath(''));
        }}
      >
        <input
          aria-label="New file path"
          data-testid="new-file-path"
          placeholder="test/03-more.sql"
          value={path}
          maxLength={512}
          required
          onChange={(e) => setPath(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy} data-testid="new-file-create">
          Create
        </button>
      </form>
    </details>
  );
}
