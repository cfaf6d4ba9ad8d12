import { type PlanInput, SHARE_PAGE_PREFIX } from '@taidon/contracts';
import { HEAD_MARKER } from '../../editor/buffer.js';

/** The share link id of a page path (`/s/{id}`), or undefined on any other page. */
export function shareIdOfPath(path: string): string | undefined {
  if (!path.startsWith(SHARE_PAGE_PREFIX)) return undefined;
  const id = path.slice(SHARE_PAGE_PREFIX.length).split('/')[0] ?? '';
  return id === '' ? undefined : decodeURIComponent(id);
}

/** The buffer a share link opens as: its tail's text above the head marker, its head below. */
export function bufferOfShare(share: { tail: PlanInput | null; head: string }): string {
  const tail =
    share.tail === null ? '' : 'sql' in share.tail ? share.tail.sql : share.tail.files.map((f) => f.sql).join('\n');
  return tail.trim() === '' ? share.head : `${tail.replace(/\n+$/, '')}\n${HEAD_MARKER}\n${share.head}`;
}

/** The full URL of a link whose answer gave `path`, on this site. */
export const absoluteShareUrl = (path: string): string => new URL(path, window.location.origin).toString();
