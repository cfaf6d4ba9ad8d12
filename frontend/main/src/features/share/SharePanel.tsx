import type { CreateShareRequest, SharedResults, ShareSummary } from '@taidon/contracts';
import { forwardRef, useCallback, useImperativeHandle, useRef, useState } from 'react';
import type { ApiClient } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import { absoluteShareUrl } from './share-link.js';

/** Opens the panel, making a link of `body` first; `results` are offered to include, never sent unasked. */
export interface SharePanelHandle {
  share(body: CreateShareRequest, results?: SharedResults): void;
}

/**
 * The Share dialog: the link just made (to copy), and this account's live
 * links, each revocable. Nothing here names the account to anyone opening a
 * link: the server keeps the owner to itself (ADR 0027).
 */
export const SharePanel = forwardRef<SharePanelHandle, { api: ApiClient }>(function SharePanel({ api }, ref) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [link, setLink] = useState('');
  const [message, setMessage] = useState('');
  const [links, setLinks] = useState<ShareSummary[]>([]);
  const [copied, setCopied] = useState(false);
  /** The link made, and what it was made of: including the results replaces it with one that carries them. */
  const [made, setMade] = useState<{ id: string; body: CreateShareRequest; results?: SharedResults } | null>(null);
  const [withResults, setWithResults] = useState(false);

  const refresh = useCallback(async () => {
    setLinks(await api.listShares().catch(() => []));
  }, [api]);

  useImperativeHandle(ref, () => ({
    share(body, results) {
      setLink('');
      setMessage('');
      setCopied(false);
      setMade(null);
      setWithResults(false);
      dialog.current?.showModal();
      void api
        .createShare(body)
        .then((created) => {
          setLink(absoluteShareUrl(created.url));
          setMade({ id: created.id, body, ...(results ? { results } : {}) });
        })
        .catch((error: unknown) =>
          setMessage(error instanceof ApiError ? error.message : 'The link could not be made.'),
        )
        .finally(() => void refresh());
    },
  }));

  /**
   * A new link that carries the results shown. The one made without them stays as it was (it may have been
   * copied already); it is in the list below, to revoke there.
   */
  const includeResults = async () => {
    if (!made?.results) return;
    setMessage('');
    setCopied(false);
    try {
      const created = await api.createShare({ ...made.body, results: made.results });
      setMade({ ...made, id: created.id });
      setLink(absoluteShareUrl(created.url));
      setWithResults(true);
    } catch (error) {
      setMessage(error instanceof ApiError ? error.message : 'The link could not be made.');
    }
    await refresh();
  };

  const copy = () => {
    void navigator.clipboard?.writeText(link).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  const revoke = async (id: string) => {
    await api.revokeShare(id).catch(() => undefined);
    if (link.endsWith(`/${id}`)) setLink('');
    await refresh();
  };

  return (
    <dialog ref={dialog} aria-label="Share" className="share-dialog" data-testid="share-dialog">
      <h2>Share</h2>
      <p className="muted">
        Anyone with the link sees this SQL and runs it from the same state. It never shows who made it, nor your results
        unless you include them.
      </p>
      {message && <p role="alert">{message}</p>}
      <div className="row">
        <input
          readOnly
          value={link}
          placeholder="Making a link…"
          aria-label="Share link"
          data-testid="share-url"
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" onClick={copy} disabled={!link} aria-label="Copy the share link">
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      {made?.results &&
        (withResults ? (
          <p className="muted" data-testid="share-with-results">
            This link shows your results ({made.results.reduce((n, r) => n + r.rows.length, 0)} rows) until the opener
            runs it.
          </p>
        ) : (
          <div className="row">
            <button type="button" onClick={() => void includeResults()} data-testid="share-include-results">
              Include my results
            </button>
          </div>
        ))}
      <h3>Your links</h3>
      {links.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="share-list">
          {links.map((s) => (
            <li key={s.id} data-testid="share-item" data-id={s.id}>
              <code title={s.title}>{s.title || '(empty head)'}</code>
              <span className="muted">until {new Date(s.expiresAt).toLocaleDateString()}</span>
              <button
                type="button"
                onClick={() => void revoke(s.id)}
                aria-label={`Revoke the link ${s.title}`}
                data-testid="share-revoke"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row">
        <button type="button" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
    </dialog>
  );
});
