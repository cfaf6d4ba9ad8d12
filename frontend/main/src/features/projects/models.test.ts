import type { PendingMerge, ProjectTestEvent } from '@taidon/contracts';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { hasConflictMarkers, mergeDraft, resolutionsOf, sideText } from './conflict.js';
import { parsePatch } from './diff.js';
import { freeName } from './names.js';
import { filePath, versionOfEtag } from './projects-api.js';
import { describePull, describePush, describeSyncError } from './sync-summary.js';
import { applyTestEvent, endTests, startingTests } from './test-results.js';
import { treeOf } from './tree.js';
import { eventForBuffer } from './use-project-run.js';

describe('the project tree', () => {
  it('nests files in folders, folders first, each in name order', () => {
    const file = (path: string) => ({ path, sizeBytes: 1, version: path });
    const nodes = treeOf([
      file('seed/02-books.sql'),
      file('README.md'),
      file('init/01-schema.sql'),
      file('seed/01-authors.sql'),
    ]);
    expect(nodes.map((n) => `${n.kind}:${n.path}`)).toEqual(['folder:init', 'folder:seed', 'file:README.md']);
    const seed = nodes[1];
    expect(seed?.kind === 'folder' && seed.children.map((c) => c.name)).toEqual(['01-authors.sql', '02-books.sql']);
    const deep = treeOf([file('a/b/c.sql')]);
    expect(deep[0]?.kind === 'folder' && deep[0].children[0]?.path).toBe('a/b');
  });
});

describe('test results', () => {
  it('lists the files as pending, then each outcome as it ends, then the totals', () => {
    const events: ProjectTestEvent[] = [
      {
        type: 'started',
        files: [
          { path: 'test/01.sql', kind: 'test' },
          { path: 'test/02.sql', kind: 'test' },
        ],
      },
      { type: 'prepared', layerKey: 'k', source: 'layer', stepsReplayed: 0, prepareMs: 12 },
      {
        type: 'file',
        kind: 'test',
        path: 'test/02.sql',
        outcome: 'failed',
        statements: 1,
        durationMs: 3,
        failure: { sqlstate: 'P0001', message: 'boom', path: 'test/02.sql', line: 2, column: 1 },
      },
    ];
    let view = startingTests();
    for (const event of events) view = applyTestEvent(view, event);
    expect(view.files.map((f) => [f.path, f.outcome])).toEqual([
      ['test/01.sql', 'pending'],
      ['test/02.sql', 'failed'],
    ]);
    expect(view.prepared).toEqual({ source: 'layer', stepsReplayed: 0, prepareMs: 12 });
    expect(view.status).toBe('running');
    view = applyTestEvent(view, { type: 'done', outcome: 'failed', passed: 1, failed: 1, totalMs: 40 });
    expect(view.status).toBe('failed');
    expect(view.totals).toEqual({ passed: 1, failed: 1, totalMs: 40 });
    expect(endTests(view)).toBe(view);
  });

  it('reports a build error, and a stream cut before done', () => {
    const failed = applyTestEvent(startingTests(), {
      type: 'error',
      phase: 'replay',
      sqlstate: '42P01',
      message: 'relation "x" does not exist',
      path: 'seed/01.sql',
      line: 3,
    });
    expect(failed.status).toBe('error');
    expect(failed.error).toEqual({
      code: '42P01',
      message: 'relation "x" does not exist',
      path: 'seed/01.sql',
      line: 3,
    });
    expect(endTests(startingTests())).toMatchObject({ status: 'error', error: { code: 'STREAM_ENDED' } });
  });
});

describe('conflicts', () => {
  const merge: PendingMerge = {
    ours: 'a'.repeat(40),
    theirs: 'b'.repeat(40),
    base: 'c'.repeat(40),
    files: [
      { path: 'seed/01.sql', base: 'x\n', ours: 'ours\n', theirs: 'theirs' },
      { path: 'README.md', base: 'r', ours: null, theirs: 'r2' },
    ],
  };

  it('builds the merge request once every file has a choice, else names the files left', () => {
    expect(resolutionsOf(merge, { 'seed/01.sql': { take: 'theirs' } })).toEqual({ missing: ['README.md'] });
    expect(resolutionsOf(merge, { 'seed/01.sql': { take: 'theirs' }, 'README.md': { text: 'merged' } })).toEqual({
      request: {
        resolutions: [
          { path: 'seed/01.sql', take: 'theirs' },
          { path: 'README.md', text: 'merged' },
        ],
      },
    });
  });

  it('drafts a hand merge between conflict markers, and spots markers left in', () => {
    const draft = mergeDraft(merge.files[0] as PendingMerge['files'][number]);
    expect(draft).toBe('<<<<<<< ours (this project)\nours\n=======\ntheirs\n>>>>>>> theirs (the remote)\n');
    expect(hasConflictMarkers(draft)).toBe(true);
    expect(hasConflictMarkers('ours\ntheirs\n-- ======= not a marker\n')).toBe(false);
    expect(sideText(null)).toBe('(no such file on this side)');
    expect(sideText('a', true)).toBe('(too large to show here)');
  });
});

describe('sync summaries', () => {
  it('says what a pull and a push did', () => {
    const c = '0123456789abcdef';
    expect(describePull({ status: 'up-to-date', commit: c, theirs: c })).toBe('Pull: already up to date at 01234567.');
    expect(describePull({ status: 'fast-forward', commit: c, theirs: c })).toMatch(/^Pull: fast-forwarded to 01234567/);
    expect(describePull({ status: 'merged', commit: c, theirs: 'fedcba9876543210' })).toBe(
      "Pull: merged the remote's fedcba98 as 01234567.",
    );
    expect(describePush({ status: 'pushed', commit: c, branch: 'main' })).toBe(
      'Push: 01234567 is now main on the remote.',
    );
  });

  it('explains a rejected push and keeps the detail of an unknown code', () => {
    expect(describeSyncError('Push', new ApiError(409, 'VCS_SYNC_PUSH_REJECTED', 'x'))).toMatch(
      /^Push failed: The remote has commits this project lacks.*\(VCS_SYNC_PUSH_REJECTED\)$/,
    );
    expect(describeSyncError('Pull', new ApiError(422, 'VCS_SYNC_OTHER', 'the detail'))).toBe(
      'Pull failed: the detail (VCS_SYNC_OTHER)',
    );
  });
});

describe('diffs, names, paths and run errors', () => {
  it('splits a patch by file and classifies its lines', () => {
    const patch = [
      'diff --git a/seed/01.sql b/seed/01.sql',
      'index 1..2 100644',
      '--- a/seed/01.sql',
      '+++ b/seed/01.sql',
      '@@ -1 +1 @@',
      '-old',
      '+new',
      ' same',
      '',
    ].join('\n');
    const [file] = parsePatch(patch);
    expect(file?.path).toBe('seed/01.sql');
    expect(file?.lines.map((l) => l.kind)).toEqual(['meta', 'file', 'file', 'hunk', 'del', 'add', 'context']);
  });

  it('picks the first free project name', () => {
    expect(freeName([], 'example')).toBe('example');
    expect(freeName(['example', 'example-2'], 'example')).toBe('example-3');
  });

  it('reads versions from entity tags and encodes paths by segment', () => {
    expect(versionOfEtag('"abc"')).toBe('abc');
    expect(versionOfEtag('W/"abc"')).toBe('abc');
    expect(versionOfEtag(null)).toBe('');
    expect(filePath('seed/a b#.sql')).toBe('seed/a%20b%23.sql');
  });

  it('moves the place of an error in a project script into its message', () => {
    const moved = eventForBuffer({
      type: 'error',
      phase: 'replay',
      sqlstate: '23505',
      message: 'duplicate key',
      path: 'seed/02-books.sql',
      line: 4,
      column: 3,
      position: 40,
    });
    expect(moved).toEqual({
      type: 'error',
      phase: 'replay',
      sqlstate: '23505',
      message: 'seed/02-books.sql:4:3: duplicate key',
      path: 'seed/02-books.sql',
    });
    const head = {
      type: 'error' as const,
      phase: 'execute' as const,
      sqlstate: '42601',
      message: 'x',
      path: 'head.sql',
      line: 1,
      column: 1,
    };
    expect(eventForBuffer(head)).toBe(head);
  });
});
