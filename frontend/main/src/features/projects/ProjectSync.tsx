import { useState } from 'react';

interface Props {
  remoteUrl: string | null;
  busy: boolean;
  onSetRemote(url: string, token: string): void;
  onPull(): void;
  onPush(): void;
}

/** The remote (URL and an optional token, kept encrypted and never shown again), pull and push. */
export function ProjectSync({ remoteUrl, busy, onSetRemote, onPull, onPush }: Props) {
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  return (
    <div className="project-sync" data-testid="project-sync">
      <p className="muted" data-testid="project-remote">
        {remoteUrl ? `Remote: ${remoteUrl}` : 'No remote: set one to pull and push.'}
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          // An empty URL keeps the remote's own: setting only a new token needs no retyping.
          onSetRemote(url.trim() || (remoteUrl ?? ''), token);
          setToken('');
        }}
      >
        <input
          aria-label="Remote URL"
          data-testid="remote-url"
          placeholder={remoteUrl ?? 'https://…/repo.git'}
          value={url}
          required={!remoteUrl}
          onChange={(e) => setUrl(e.currentTarget.value)}
        />
        <input
          aria-label="Remote token"
          data-testid="remote-token"
          type="password"
          placeholder="token (optional)"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy} data-testid="remote-set">
          Set remote
        </button>
      </form>
      <div className="row">
        <button type="button" disabled={busy || !remoteUrl} onClick={onPull} data-testid="project-pull">
          Pull
        </button>
        <button type="button" disabled={busy || !remoteUrl} onClick={onPush} data-testid="project-push">
          Push
        </button>
      </div>
    </div>
  );
}
