import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitHttpServer, gitOutside, startGitHttpServer } from '../services/vcs-sync/test/git-http-server.js';
import {
  editorText,
  launchBrowser,
  openPage,
  type Platform,
  screenshot,
  startPlatform,
  typeInEditor,
} from './harness.js';

// Projects in the editor, in chromium (issue 17): a new user signs up, creates the example project, edits
// and saves a seed file, runs a query on the project's state, runs its tests, pushes to a loopback
// smart-HTTP Git server and the commit is in the bare repository; then a pull that conflicts is shown
// side by side and resolved by taking the remote's side. One platform (loopback http remotes allowed),
// one Git server and one browser context for the story, which goes on in order.

const TOKEN = 'e2e-remote-token-0123456789';
/** The bare repository's git, as someone at a terminal on the remote's machine. */
const bareGit = (dir: string, ...args: string[]) =>
  execFileSync('git', ['--git-dir', dir, ...args], {
    encoding: 'utf8',
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });

/** The bearer token the SPA holds (evaluated in the page, which has a DOM). */
const accessToken = async (page: Page): Promise<string> =>
  (JSON.parse((await page.evaluate("localStorage.getItem('taidon.auth')")) ?? '{}') as { accessToken: string })
    .accessToken;

/** Does `action` and waits for the run it starts to finish; returns its status. */
async function runWith(page: Page, action: () => Promise<void>, timeoutMs = 120_000): Promise<string> {
  const panel = page.locator('[data-testid="run-panel"]');
  const before = (await panel.count()) > 0 ? ((await panel.getAttribute('data-run')) ?? '') : '';
  await action();
  const finished = page.locator(`[data-testid="run-panel"]:not([data-run="${before}"]):not([data-status="running"])`);
  await finished.waitFor({ timeout: timeoutMs });
  return (await finished.getAttribute('data-status')) ?? '';
}

/** The panel's last message once no action is in flight: [kind, text]. */
async function panelMessage(page: Page, timeoutMs = 60_000): Promise<[string, string]> {
  await page.getByTestId('project-busy').waitFor({ state: 'detached', timeout: timeoutMs });
  const message = page.getByTestId('project-message');
  await message.waitFor({ timeout: timeoutMs });
  return [(await message.getAttribute('data-kind')) ?? '', (await message.textContent()) ?? ''];
}

describe('projects in the editor, in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let git: GitHttpServer;
  let gitRoot: string;
  let context: BrowserContext | undefined;
  let page: Page;
  let remoteUrl: string;
  const bare = () => join(gitRoot, 'learner.git');

  beforeAll(async () => {
    gitRoot = await mkdtemp(join(tmpdir(), 'taidon-e2e-git-'));
    [platform, browser, git] = await Promise.all([
      startPlatform({ VCS_SYNC_ALLOW_LOOPBACK_HTTP: 'true' }),
      launchBrowser(),
      startGitHttpServer(gitRoot, { token: TOKEN }),
    ]);
    remoteUrl = git.bare('learner');
    const opened = await openPage(browser, platform.url);
    context = opened.context;
    page = opened.page;
    page.on('pageerror', (error) => console.error('[projects] page error:', error.message));
    await page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
  }, 150_000);
  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    await git?.close();
    await platform?.stop();
    await rm(gitRoot, { recursive: true, force: true });
  }, 60_000);

  it('a new user signs up and creates the example project with one click; its tree is shown', async () => {
    const account = page.getByRole('button', { name: 'Sign in, sign up or keep your work in an account' });
    await expect.poll(() => account.isEnabled(), { timeout: 20_000 }).toBe(true);
    await account.click();
    const dialog = page.getByRole('dialog', { name: 'Account' });
    await dialog.getByLabel('Email').fill(`projects-${Date.now()}@example.test`);
    await dialog.getByLabel('Password').fill('correct horse battery');
    await dialog.getByRole('button', { name: 'Sign up' }).click();
    await expect.poll(() => page.getByTestId('account-role').textContent(), { timeout: 20_000 }).toBe('Signed in');

    const example = page.getByTestId('project-create-example');
    await expect.poll(() => example.isEnabled(), { timeout: 20_000 }).toBe(true);
    await example.click();
    expect(await panelMessage(page)).toEqual(['ok', 'Created example from example.']);
    expect(await page.getByTestId('project-select').locator('option:checked').textContent()).toBe('example');
    const files = page.getByTestId('project-file');
    await expect.poll(() => files.count(), { timeout: 20_000 }).toBe(6);
    expect(await files.evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual([
      'init/01-schema.sql',
      'seed/01-authors.sql',
      'seed/02-books.sql',
      'test/01-every-author-has-books.sql',
      'test/02-books-after-birth.sql',
      'README.md',
    ]);
  }, 90_000);

  it('opens a seed file in a tab, marks it dirty when edited and saves it with Ctrl+S as a commit', async () => {
    await page.locator('[data-testid="project-file"][data-path="seed/02-books.sql"]').click();
    const tab = page.locator('[data-testid="editor-tab"][data-name="seed/02-books.sql"]');
    await tab.waitFor({ timeout: 20_000 });
    expect(await tab.getAttribute('data-active')).toBe('true');
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain("(6, 3, 'Parable of the Sower', 1993);");
    const seeded = (await readFile(join(platformTemplate(), 'seed/02-books.sql'), 'utf8')).trimEnd();
    // One more book, dated before its author was born: the second test file will fail on it.
    await typeInEditor(page, `${seeded.replace(/;$/, ',')}\n  (7, 3, 'Dawn', 1940);\n`);
    await expect.poll(() => tab.getAttribute('data-dirty')).toBe('true');
    expect(
      await page.locator('[data-testid="project-file"][data-path="seed/02-books.sql"]').getAttribute('data-dirty'),
    ).toBe('true');
    await screenshot(page, 'project-dirty');
    await page.keyboard.press('ControlOrMeta+S');
    const notice = page.locator('[data-testid="save-notice"][data-kind="saved"]');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/^Saved seed\/02-books\.sql as [0-9a-f]{8}\.$/);
    await expect.poll(() => tab.getAttribute('data-dirty')).toBe('false');
  }, 90_000);

  it('runs a query on the project state: the rows include the saved seed', async () => {
    await page.locator('[data-testid="editor-tab"][data-name="Query 1"]').getByRole('tab').click();
    await typeInEditor(
      page,
      'SELECT a.name, count(*) AS books FROM books b JOIN authors a ON a.id = b.author_id GROUP BY a.name ORDER BY a.name;',
    );
    expect(await runWith(page, () => page.getByTestId('project-run').click())).toBe('ok');
    const rows = await page
      .getByTestId('result-row')
      .evaluateAll((els) => els.map((e) => [...e.querySelectorAll('[role="cell"]')].map((cell) => cell.textContent)));
    expect(rows.map((r) => r.slice(-2))).toEqual([
      ['Octavia E. Butler', '3'],
      ['Stanisław Lem', '2'],
      ['Ursula K. Le Guin', '2'],
    ]);
    await screenshot(page, 'project-run');
  }, 180_000);

  it('runs the tests, a new one included, and shows each file passed or failed, with the failing statement’s place and error', async () => {
    await page.getByTestId('project-panel').locator('summary', { hasText: 'New file…' }).click();
    await page.getByTestId('new-file-path').fill('test/03-lem-wrote-two.sql');
    await page.getByTestId('new-file-create').click();
    expect((await panelMessage(page))[1]).toMatch(/^Created test\/03-lem-wrote-two\.sql as [0-9a-f]{8}\.$/);
    const tab = page.locator('[data-testid="editor-tab"][data-name="test/03-lem-wrote-two.sql"]');
    await tab.waitFor({ timeout: 20_000 });
    expect(await tab.getAttribute('data-active')).toBe('true');
    await typeInEditor(
      page,
      "DO $$ BEGIN IF (SELECT count(*) FROM books WHERE author_id = 2) <> 2 THEN RAISE EXCEPTION 'Lem wrote two'; END IF; END $$;\n",
    );
    await page.keyboard.press('ControlOrMeta+S');
    await expect.poll(() => tab.getAttribute('data-dirty'), { timeout: 30_000 }).toBe('false');

    await page.getByTestId('project-tests-run').click();
    const tests = page.locator('[data-testid="project-tests"]:not([data-status="running"])');
    await tests.waitFor({ timeout: 180_000 });
    expect(await tests.getAttribute('data-status')).toBe('failed');
    const files = page.getByTestId('project-test-file');
    expect(
      await files.evaluateAll((els) => els.map((e) => [e.getAttribute('data-path'), e.getAttribute('data-outcome')])),
    ).toEqual([
      ['test/01-every-author-has-books.sql', 'passed'],
      ['test/02-books-after-birth.sql', 'failed'],
      ['test/03-lem-wrote-two.sql', 'passed'],
    ]);
    expect(await files.nth(1).textContent()).toMatch(
      /test\/02-books-after-birth\.sql:\d+:\d+ P0001 a book is published before its author was born/,
    );
    await screenshot(page, 'project-tests');
  }, 240_000);

  it('sets a remote with a token and pushes: the commit is in the bare repository', async () => {
    await page.getByTestId('remote-url').fill(remoteUrl);
    await page.getByTestId('remote-token').fill(TOKEN);
    await page.getByTestId('remote-set').click();
    const [kind, text] = await panelMessage(page);
    expect([kind, text]).toEqual(['ok', `Remote set to ${remoteUrl} (branch main, token kept encrypted).`]);
    expect(await page.getByTestId('project-remote').textContent()).toBe(`Remote: ${remoteUrl}`);

    await page.getByTestId('project-push').click();
    const [pushKind, pushed] = await panelMessage(page);
    expect(pushKind).toBe('ok');
    const short = /^Push: ([0-9a-f]{8}) is now main on the remote\.$/.exec(pushed)?.[1];
    expect(short).toBeDefined();
    expect(
      bareGit(bare(), 'rev-parse', 'main')
        .trim()
        .startsWith(short ?? '-'),
    ).toBe(true);
    expect(bareGit(bare(), 'show', 'main:seed/02-books.sql')).toContain("(7, 3, 'Dawn', 1940);");
    expect(Number(bareGit(bare(), 'rev-list', '--count', 'main'))).toBeGreaterThanOrEqual(2);
    // The pushes carried the token; nothing reached the repository without it.
    expect(git.requests.filter((r) => r.path.endsWith('git-receive-pack')).every((r) => r.authorized)).toBe(true);
    await screenshot(page, 'project-pushed');
  }, 90_000);

  it('shows a conflicting pull as base, ours and theirs side by side and resolves it by taking theirs', async () => {
    // Someone else changes the first author's line on the remote.
    const other = await mkdtemp(join(tmpdir(), 'taidon-e2e-other-'));
    try {
      gitOutside(other, 'clone', '-q', bare(), 'clone');
      const work = join(other, 'clone');
      const authors = join(work, 'seed/01-authors.sql');
      await writeFile(
        authors,
        (await readFile(authors, 'utf8')).replace("'Ursula K. Le Guin', 1929", "'Ursula Le Guin', 1929"),
      );
      gitOutside(work, 'commit', '-q', '-am', 'authors: the short name');
      gitOutside(work, 'push', '-q', 'origin', 'main');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    // The learner changes the same line here and saves.
    await page.locator('[data-testid="project-file"][data-path="seed/01-authors.sql"]').click();
    const tab = page.locator('[data-testid="editor-tab"][data-name="seed/01-authors.sql"]');
    await tab.waitFor({ timeout: 20_000 });
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain("'Ursula K. Le Guin', 1929");
    const seeded = await readFile(join(platformTemplate(), 'seed/01-authors.sql'), 'utf8');
    const ours = seeded.replace("'Ursula K. Le Guin', 1929", "'U. K. Le Guin', 1929");
    await typeInEditor(page, ours);
    await page.keyboard.press('ControlOrMeta+S');
    await expect.poll(() => tab.getAttribute('data-dirty'), { timeout: 30_000 }).toBe('false');

    await page.getByTestId('project-pull').click();
    const [kind, text] = await panelMessage(page);
    expect(kind).toBe('error');
    expect(text).toMatch(/^Pull failed: Both sides changed the same files.*\(VCS_SYNC_PULL_CONFLICT\)$/);
    const view = page.getByRole('dialog', { name: 'Pull conflicts' });
    await view.waitFor({ timeout: 20_000 });
    const file = view.locator('[data-testid="conflict-file"][data-path="seed/01-authors.sql"]');
    expect(await file.getByTestId('conflict-base').textContent()).toContain("'Ursula K. Le Guin', 1929");
    expect(await file.getByTestId('conflict-ours').textContent()).toContain("'U. K. Le Guin', 1929");
    expect(await file.getByTestId('conflict-theirs').textContent()).toContain("'Ursula Le Guin', 1929");
    await screenshot(page, 'project-conflict');
    await file.getByTestId('conflict-take-theirs').click();
    expect(await file.getByTestId('conflict-choice').textContent()).toBe('taking theirs');
    await view.getByTestId('conflict-resolve').click();
    const [resolvedKind, resolved] = await panelMessage(page);
    expect(resolvedKind).toBe('ok');
    expect(resolved).toMatch(/^Pull: merged the remote's [0-9a-f]{8} as [0-9a-f]{8}\.$/);
    await view.waitFor({ state: 'detached', timeout: 20_000 });
    // The open tab had no unsaved edit: it shows the merged file (theirs).
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain("'Ursula Le Guin', 1929");
    expect(await tab.getAttribute('data-dirty')).toBe('false');

    await page.getByTestId('project-push').click();
    expect((await panelMessage(page))[0]).toBe('ok');
    expect(bareGit(bare(), 'show', 'main:seed/01-authors.sql')).toContain("'Ursula Le Guin', 1929");
    expect(bareGit(bare(), 'log', '-1', '--format=%P', 'main').trim().split(' ')).toHaveLength(2);
  }, 120_000);

  it('keeps the buffer when the file changed elsewhere (412), says so, and saves over it on request', async () => {
    const token = await accessToken(page);
    const projectId = await page.getByTestId('project-select').inputValue();
    const fileUrl = `${platform.url}/api/projects/${projectId}/files/seed/01-authors.sql`;
    const headers = { authorization: `Bearer ${token}` };
    // Another tab (or a person with curl) saves the file the editor has open.
    const elsewhere = await fetch(fileUrl, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'text/plain', 'if-match': '*' },
      body: "INSERT INTO authors (id, name, born) VALUES (1, 'Elsewhere', 1929);\n",
    });
    expect(elsewhere.status).toBe(200);

    const tab = page.locator('[data-testid="editor-tab"][data-name="seed/01-authors.sql"]');
    expect(await tab.getAttribute('data-active')).toBe('true');
    const mine =
      "INSERT INTO authors (id, name, born) VALUES (1, 'Mine', 1929), (2, 'Stanisław Lem', 1921), (3, 'Octavia E. Butler', 1947);";
    await typeInEditor(page, mine);
    await page.keyboard.press('ControlOrMeta+S');
    const stale = page.locator('[data-testid="save-notice"][data-kind="stale"]');
    await stale.waitFor({ timeout: 30_000 });
    expect(await stale.textContent()).toContain('seed/01-authors.sql changed elsewhere since you opened it');
    expect(await editorText(page)).toBe(mine);
    expect(await tab.getAttribute('data-dirty')).toBe('true');
    expect(await (await fetch(fileUrl, { headers })).text()).toContain("'Elsewhere'");
    await screenshot(page, 'project-stale');

    await stale.getByTestId('save-overwrite').click();
    await page.locator('[data-testid="save-notice"][data-kind="saved"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => tab.getAttribute('data-dirty')).toBe('false');
    expect(await (await fetch(fileUrl, { headers })).text()).toBe(mine);
  }, 90_000);

  it('shows the history with a commit’s diff, the file’s own history, and restores the file as it was first', async () => {
    await page.getByTestId('project-panel').locator('summary', { hasText: 'History' }).click();
    const commits = page.getByTestId('project-commit');
    await expect.poll(() => commits.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
    const projectCommits = await commits.count();
    await commits.first().getByTestId('commit-diff').click();
    const diffFile = page.locator('[data-testid="diff-file"][data-path="seed/01-authors.sql"]');
    await diffFile.waitFor({ timeout: 20_000 });
    expect(await diffFile.locator('.diff-add').allTextContents()).toContain(
      "+INSERT INTO authors (id, name, born) VALUES (1, 'Mine', 1929), (2, 'Stanisław Lem', 1921), (3, 'Octavia E. Butler', 1947);",
    );
    expect(await diffFile.locator('.diff-del').allTextContents()).toContain(
      "-INSERT INTO authors (id, name, born) VALUES (1, 'Elsewhere', 1929);",
    );
    await screenshot(page, 'project-history');

    // This file's history leaves out the commits that did not touch it (the save of seed/02-books.sql).
    await page.getByTestId('history-scope-file').check();
    await expect
      .poll(
        async () => {
          const n = await commits.count();
          return n > 0 && n < projectCommits;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await commits.last().getByTestId('commit-restore').click();
    const [kind, text] = await panelMessage(page);
    expect(kind).toBe('ok');
    expect(text).toMatch(/^Restored seed\/01-authors\.sql as of [0-9a-f]{8} \(new commit [0-9a-f]{8}\)\.$/);
    // The tab had no unsaved edit: it shows the file as the template made it.
    await expect.poll(() => editorText(page), { timeout: 20_000 }).toContain("(1, 'Ursula K. Le Guin', 1929),");
    const tab = page.locator('[data-testid="editor-tab"][data-name="seed/01-authors.sql"]');
    expect(await tab.getAttribute('data-dirty')).toBe('false');
    const template = await readFile(join(platformTemplate(), 'seed/01-authors.sql'), 'utf8');
    const projectId = await page.getByTestId('project-select').inputValue();
    const token = await accessToken(page);
    const restored = await fetch(`${platform.url}/api/projects/${projectId}/files/seed/01-authors.sql`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await restored.text()).toBe(template);
  }, 90_000);

  it('aborts a conflicting pull: the dialog goes and the project is as it was before the pull', async () => {
    const other = await mkdtemp(join(tmpdir(), 'taidon-e2e-other-'));
    try {
      gitOutside(other, 'clone', '-q', bare(), 'clone');
      const work = join(other, 'clone');
      const books = join(work, 'seed/02-books.sql');
      await writeFile(books, (await readFile(books, 'utf8')).replace("'Dawn', 1940", "'Dawn', 1941"));
      gitOutside(work, 'commit', '-q', '-am', 'books: Dawn a year later');
      gitOutside(work, 'push', '-q', 'origin', 'main');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    const projectId = await page.getByTestId('project-select').inputValue();
    const headers = { authorization: `Bearer ${await accessToken(page)}` };
    const fileUrl = `${platform.url}/api/projects/${projectId}/files/seed/02-books.sql`;
    const local = (await (await fetch(fileUrl, { headers })).text()).replace("'Dawn', 1940", "'Dawn', 1987");
    const saved = await fetch(fileUrl, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'text/plain', 'if-match': '*' },
      body: local,
    });
    expect(saved.status).toBe(200);

    await page.getByTestId('project-pull').click();
    expect((await panelMessage(page))[1]).toMatch(/\(VCS_SYNC_PULL_CONFLICT\)$/);
    const view = page.getByRole('dialog', { name: 'Pull conflicts' });
    await view.locator('[data-testid="conflict-file"][data-path="seed/02-books.sql"]').waitFor({ timeout: 20_000 });
    await view.getByTestId('conflict-abort').click();
    expect(await panelMessage(page)).toEqual(['ok', 'Merge aborted: the project is as it was before the pull.']);
    await view.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await (await fetch(fileUrl, { headers })).text()).toBe(local);
    const pending = await fetch(`${platform.url}/api/projects/${projectId}/merge`, { headers });
    expect(pending.status).toBe(409);
    expect(((await pending.json()) as { code: string }).code).toBe('VCS_SYNC_NO_PENDING_MERGE');
  }, 90_000);

  it('deletes the shown file as a commit: gone from the tree, its tab a plain query', async () => {
    await page.locator('[data-testid="project-file"][data-path="test/03-lem-wrote-two.sql"]').click();
    const tab = page.locator('[data-testid="editor-tab"][data-name="test/03-lem-wrote-two.sql"]');
    await expect.poll(() => tab.getAttribute('data-active')).toBe('true');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('file-delete').click();
    expect((await panelMessage(page))[1]).toMatch(/^Deleted test\/03-lem-wrote-two\.sql as [0-9a-f]{8}\.$/);
    await expect
      .poll(() => page.locator('[data-testid="project-file"][data-path="test/03-lem-wrote-two.sql"]').count())
      .toBe(0);
    const bound = JSON.parse((await page.evaluate("localStorage.getItem('taidon.project-files')")) ?? '{}') as Record<
      string,
      { path: string }
    >;
    expect(Object.values(bound).map((b) => b.path)).not.toContain('test/03-lem-wrote-two.sql');
    expect(await tab.count()).toBe(1);
  }, 60_000);

  it('deletes the project after a confirmation: gone from the list, its file tabs kept as plain queries', async () => {
    const projectId = await page.getByTestId('project-select').inputValue();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('project-delete').click();
    expect(await panelMessage(page)).toEqual(['ok', 'Deleted example.']);
    expect(await page.getByTestId('project-select').inputValue()).toBe('');
    expect(await page.locator(`[data-testid="project-select"] option[value="${projectId}"]`).count()).toBe(0);
    const gone = await fetch(`${platform.url}/api/projects/${projectId}/files`, {
      headers: { authorization: `Bearer ${await accessToken(page)}` },
    });
    expect(gone.status).toBe(404);
    // The tabs keep their text but are bound to no file any more (so Ctrl+S has nothing to save to).
    await expect
      .poll(async () => JSON.parse((await page.evaluate("localStorage.getItem('taidon.project-files')")) ?? '{}'))
      .toEqual({});
    const tab = page.locator('[data-testid="editor-tab"][data-name="seed/01-authors.sql"]');
    expect(await tab.getAttribute('data-dirty')).toBe('false');
    await tab.getByRole('tab').click();
    await expect.poll(() => editorText(page)).toContain("(1, 'Ursula K. Le Guin', 1929),");
    expect(await page.getByTestId('project-file').count()).toBe(0);
  }, 60_000);
});

/** The example template as vcs-sync ships it. */
function platformTemplate(): string {
  return new URL('../services/vcs-sync/templates/example', import.meta.url).pathname;
}
