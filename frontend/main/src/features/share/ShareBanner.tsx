/** What the page knows of the share link it was opened at. */
export type SharedView =
  | { state: 'loading'; id: string }
  | { state: 'open'; id: string; readOnly: boolean; expiresAt: string; withResults?: boolean }
  | { state: 'missing'; id: string };

/**
 * The bar above the editor on a share page: the SQL is someone's shared
 * state, read-only until the learner chooses to edit a copy of it; or the
 * link is gone (revoked, expired or never made).
 */
export function ShareBanner({ view, onEdit }: { view: SharedView; onEdit(): void }) {
  if (view.state === 'loading') {
    return (
      <div className="share-banner" role="status" data-testid="share-banner" data-state="loading">
        Opening the shared SQL…
      </div>
    );
  }
  if (view.state === 'missing') {
    return (
      <div className="share-banner missing" role="alert" data-testid="share-banner" data-state="missing">
        This share link was revoked, has expired or never existed.
      </div>
    );
  }
  return (
    <div
      className="share-banner"
      role="status"
      data-testid="share-banner"
      data-state={view.readOnly ? 'read-only' : 'edited'}
    >
      {view.readOnly ? (
        <>
          <span>
            Shared SQL, read-only: <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs it on the shared state.
            {view.withResults && ' The results below are the ones its author saw.'}
          </span>
          <button type="button" onClick={onEdit} data-testid="share-edit" aria-label="Edit a copy of the shared SQL">
            Edit
          </button>
        </>
      ) : (
        <span>Your copy of a shared link: runs start from the tail above the marker.</span>
      )}
    </div>
  );
}
