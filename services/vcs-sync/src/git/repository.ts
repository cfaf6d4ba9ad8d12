import { createHash } from 'node:crypto';
import type { Git } from './git.js';

/** One entry of a tree at a commit. */
export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  id: string;
  /** Bytes of a blob; null for trees and submodules. */
  sizeBytes: number | null;
  path: string;
}

/** One commit of a history. */
export interface CommitInfo {
  commit: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  at: string;
  message: string;
}

/** Modes of entries vcs-sync serves and restores: plain and executable files. */
export const FILE_MODES = new Set(['100644', '100755']);

/** A commit id as callers give one: 4 to 64 hex digits (SHA-1 or SHA-256, abbreviated or not). */
export const COMMIT_ID = /^[0-9a-f]{4,64}$/;

/**
 * The id git gives `text` as a blob, computed here instead of by a `git hash-object` process: the hash of
 * `blob <bytes>\0<text>`, SHA-1 or SHA-256 as the repository's own ids are (`sameFormatAs`, any id of it).
 */
export function blobIdIn(sameFormatAs: string, text: string): string {
  const body = Buffer.from(text, 'utf8');
  const hash = createHash(sameFormatAs.length === 64 ? 'sha256' : 'sha1');
  hash.update(`blob ${body.length}\0`);
  hash.update(body);
  return hash.digest('hex');
}

/** The git commands a project needs, over the one Git runner; paths are checked before they get here. */
export class Repository {
  constructor(
    readonly git: Git,
    readonly dir: string,
  ) {}

  /** A new repository on branch `main`, with nothing in it yet. */
  async init(): Promise<void> {
    await this.git.run(this.dir, ['init', '-q', '-b', 'main']);
  }

  /** The commit HEAD names. */
  async head(): Promise<string> {
    return (await this.git.run(this.dir, ['rev-parse', '--verify', 'HEAD'])).trim();
  }

  /** The full id of a commit of this repository, or undefined when `rev` names none. */
  async resolveCommit(rev: string): Promise<string | undefined> {
    if (!COMMIT_ID.test(rev)) return undefined;
    const outcome = await this.git.call(this.dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      allowExitCodes: [1, 128],
    });
    return outcome.ok ? outcome.stdout.trim() : undefined;
  }

  /** Every entry at `commit` (recursively), or the one at `path`. */
  async tree(commit: string, path?: string): Promise<TreeEntry[]> {
    const args = ['ls-tree', '-l', '-z', ...(path === undefined ? ['-r'] : []), commit];
    if (path !== undefined) args.push('--', path);
    const out = await this.git.run(this.dir, args);
    const entries: TreeEntry[] = [];
    for (const record of out.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const [mode = '', type = '', id = '', size = '-'] = record.slice(0, tab).split(/ +/);
      entries.push({
        mode,
        type: type as TreeEntry['type'],
        id,
        sizeBytes: size === '-' ? null : Number(size),
        path: record.slice(tab + 1),
      });
    }
    return entries;
  }

  /** The text of a blob. */
  async blob(id: string): Promise<string> {
    return this.git.run(this.dir, ['cat-file', 'blob', id]);
  }

  /** Stages the given paths as they are on disk (a deleted one as deleted). */
  async stage(paths: readonly string[]): Promise<void> {
    await this.git.run(this.dir, ['add', '--all', '--force', '--', ...paths]);
  }

  /** Whether the index differs from HEAD. */
  async hasStagedChanges(): Promise<boolean> {
    const outcome = await this.git.call(this.dir, ['diff', '--cached', '--quiet', '--no-ext-diff'], {
      allowExitCodes: [1],
    });
    return !outcome.ok;
  }

  /** Commits the index as `author`; answers the new commit. */
  async commit(message: string, author: { name: string; email: string }, allowEmpty = false): Promise<string> {
    await this.git.run(this.dir, [
      'commit',
      '-q',
      '--no-verify',
      '--no-edit',
      ...(allowEmpty ? ['--allow-empty'] : []),
      '--author',
      `${author.name} <${author.email}>`,
      '-m',
      message,
    ]);
    return this.head();
  }

  /**
   * Commits the index on top of `parent` as `author`, without `git commit` (which first looks at every file of
   * the working tree, though the index already is what to commit): `write-tree`, `commit-tree`, then HEAD's
   * branch moved only if it still is at `parent`. Answers the new commit. Not for a merge in progress (one
   * parent only).
   */
  async commitIndex(message: string, author: { name: string; email: string }, parent: string): Promise<string> {
    const tree = (await this.git.run(this.dir, ['write-tree'])).trim();
    const commit = (
      await this.git.run(this.dir, ['commit-tree', tree, '-p', parent, '-m', message], {
        env: { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email },
      })
    ).trim();
    await this.git.run(this.dir, ['update-ref', '-m', `commit: ${message}`, 'HEAD', commit, parent]);
    return commit;
  }

  /** Puts the working tree and index back to HEAD: after a change that failed half-way, nothing is left of it. */
  async discardChanges(): Promise<void> {
    await this.git.run(this.dir, ['reset', '-q', '--hard', 'HEAD']);
    await this.git.run(this.dir, ['clean', '-q', '-f', '-d']);
  }

  /** Index and working tree made exactly the tree of `commit` (files it lacks removed). */
  async checkoutTree(commit: string): Promise<void> {
    await this.git.run(this.dir, ['read-tree', '--reset', '-u', commit]);
  }

  /** Newest first, at most `limit` commits, those that touched `path` when given. */
  async log(limit: number, path?: string): Promise<CommitInfo[]> {
    const format = '%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e';
    const args = ['log', `--format=${format}`, `--max-count=${limit}`, 'HEAD'];
    if (path !== undefined) args.push('--', path);
    const out = await this.git.run(this.dir, args);
    return out
      .split('\x1e')
      .map((record) => record.replace(/^\n/, ''))
      .filter(Boolean)
      .map((record) => {
        const [commit = '', parents = '', authorName = '', authorEmail = '', at = '', message = ''] =
          record.split('\x1f');
        return { commit, parents: parents.split(' ').filter(Boolean), authorName, authorEmail, at, message };
      });
  }

  /** The files that differ between two commits, with git's status letter (A, M, D, R…). */
  async changedFiles(from: string, to: string): Promise<{ status: string; path: string; from?: string }[]> {
    const out = await this.git.run(this.dir, [
      'diff',
      '--no-ext-diff',
      '--no-textconv',
      '--name-status',
      '-z',
      '-M',
      from,
      to,
    ]);
    const fields = out.split('\0').filter((f) => f !== '');
    const files: { status: string; path: string; from?: string }[] = [];
    for (let i = 0; i < fields.length; ) {
      const status = fields[i++] ?? '';
      if (status.startsWith('R') || status.startsWith('C')) {
        const before = fields[i++] ?? '';
        files.push({ status: status[0] ?? 'R', from: before, path: fields[i++] ?? '' });
      } else files.push({ status, path: fields[i++] ?? '' });
    }
    return files;
  }

  /** The unified diff between two commits (never an external diff driver or text conversion). */
  async patch(from: string, to: string): Promise<string> {
    return this.git.run(this.dir, ['diff', '--no-ext-diff', '--no-textconv', '--no-color', '-M', from, to]);
  }
}
