import type { PendingMerge } from '@taidon/contracts';
import { useEffect, useRef, useState } from 'react';
import { type ConflictChoice, hasConflictMarkers, mergeDraft, sideText } from './conflict.js';

interface Props {
  merge: PendingMerge;
  busy: boolean;
  onResolve(choices: Record<string, ConflictChoice>): void;
  onAbort(): void;
}

/**
 * A pull waiting on its conflicts: each file's base, ours and theirs side by
 * side; take one side, or write the merged text; then resolve (one commit)
 * or abort (the project stays as it was before the pull).
 */
export function ConflictView({ merge, busy, onResolve, onAbort }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [choices, setChoices] = useState<Record<string, ConflictChoice>>({});
  useEffect(() => {
    if (!dialog.current?.open) dialog.current?.showModal();
  }, []);
  const choose = (path: string, choice: ConflictChoice) => setChoices((c) => ({ ...c, [path]: choice }));
  const withMarkers = merge.files.filter((f) => {
    const choice = choices[f.path];
    return choice && 'text' in choice && hasConflictMarkers(choice.text);
  });
  const unresolved = merge.files.filter((f) => !choices[f.path]).length;
  return (
    <dialog ref={dialog} className="conflict-view" aria-label="Pull conflicts" data-testid="conflict-view">
      <h2>Pull conflicts</h2>
      <p className="muted">
        Both this project ({merge.ours.slice(0, 8)}) and the remote ({merge.theirs.slice(0, 8)}) changed these files
        since {merge.base ? merge.base.slice(0, 8) : 'no common commit'}. Nothing was changed yet.
      </p>
      {merge.files.map((file) => {
        const choice = choices[file.path];
        return (
          <section key={file.path} data-testid="conflict-file" data-path={file.path}>
            <h3>
              <code>{file.path}</code>{' '}
              <span className="muted" data-testid="conflict-choice">
                {choice ? ('take' in choice ? `taking ${choice.take}` : 'merged by hand') : 'unresolved'}
              </span>
            </h3>
            <div className="conflict-sides">
              {(['base', 'ours', 'theirs'] as const).map((side) => (
                <div key={side}>
                  <strong>
                    {side === 'ours' ? 'ours (this project)' : side === 'theirs' ? 'theirs (the remote)' : 'base'}
                  </strong>
                  <pre data-testid={`conflict-${side}`}>{sideText(file[side], file.omitted)}</pre>
                  {side !== 'base' && (
                    <button
                      type="button"
                      data-testid={`conflict-take-${side}`}
                      onClick={() => choose(file.path, { take: side })}
                    >
                      Take {side}
                    </button>
                  )}
                </div>
              ))}
            </div>
            {choice && 'text' in choice ? (
              <textarea
                aria-label={`Merged text of ${file.path}`}
                data-testid="conflict-merged"
                value={choice.text}
                rows={8}
                onChange={(e) => choose(file.path, { text: e.currentTarget.value })}
              />
            ) : (
              <button
                type="button"
                onClick={() => choose(file.path, { text: mergeDraft(file) })}
                disabled={file.omitted}
              >
                Write the merged text
              </button>
            )}
          </section>
        );
      })}
      {withMarkers.length > 0 && (
        <p className="run-error">Conflict markers are left in {withMarkers.map((f) => f.path).join(', ')}.</p>
      )}
      <div className="row">
        <button
          type="button"
          data-testid="conflict-resolve"
          disabled={busy || unresolved > 0}
          onClick={() => onResolve(choices)}
        >
          {unresolved > 0 ? `Resolve (${unresolved} left)` : 'Resolve and commit'}
        </button>
        <button type="button" data-testid="conflict-abort" disabled={busy} onClick={onAbort}>
          Abort the pull
        </button>
        <button type="button" onClick={() => dialog.current?.close()}>
          Later
        </button>
      </div>
    </dialog>
  );
}
