import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  editorText,
  launchBrowser,
  openPage,
  type Platform,
  runWithKeys,
  screenshot,
  startPlatform,
  typeInEditor,
} from './harness.js';

// Browser tests: Debian's chromium (playwright-core) against the whole
// platform started as the README says. Slow by nature; one platform and one
// browser for the file, one page per test.

const RUN = 'ControlOrMeta+Enter';
/** The signed-in state the SPA keeps (evaluated in the page, which has a DOM). */
const storedAuth = async (page: Page): Promise<{ accessToken?: string; role?: string; accountId?: string } | null> =>
  JSON.parse((await page.evaluate("localStorage.getItem('taidon.auth')")) ?? 'null');

describe('the SQL editor in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const open = async (name: string) => {
    const opened = await openPage(browser, platform.url);
    contexts.push(opened.context);
    opened.page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
    await opened.page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    return opened;
  };

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await platform?.stop();
  }, 60_000);

  it('signs in anonymously on the first visit and loads the editor without any request leaving the machine', async () => {
    const { page, foreign } = await open('first-visit');
    await expect.poll(async () => (await storedAuth(page))?.accessToken, { timeout: 20_000 }).toBeTruthy();
    expect(await page.getByTestId('account-role').textContent()).toBe('Anonymous');
    expect((await storedAuth(page))?.role).toBe('anonymous');
    // Monaco's worker is part of the bundle: the language service started from our own origin.
    await page.waitForLoadState('networkidle');
    expect(foreign).toEqual([]);
    await screenshot(page, 'first-visit');
    // Every control has an accessible name (its label, its text or aria-label).
    const unnamed = await page.evaluate(`[...document.querySelectorAll('button, select, input, [role="tab"]')]
      .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim() || (el.labels && el.labels.length)))
      .map((el) => el.outerHTML)`);
    expect(unnamed).toEqual([]);
    // A narrow laptop screen, dark theme: the side panel moves below, the toolbar stays reachable.
    await page.setViewportSize({ width: 900, height: 700 });
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    expect(await page.getByTestId('run-button').isVisible()).toBe(true);
    expect(await page.getByTestId('editor').isVisible()).toBe(true);
    await screenshot(page, 'narrow-dark');
  }, 60_000);

  it('runs a typed CREATE/INSERT/SELECT script with Ctrl+Enter and shows the rows, NULL distinct', async () => {
    const { page } = await open('typed-script');
    await typeInEditor(
      page,
      "CREATE TABLE pets (id int PRIMARY KEY, name text);\nINSERT INTO pets VALUES (1, 'rex'), (2, NULL);\nSELECT id, name FROM pets ORDER BY id;",
    );
    expect(await runWithKeys(page, RUN)).toBe('ok');
    const rows = page.getByTestId('result-row');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).locator('[role="cell"]').allTextContents()).toEqual(['1', 'rex']);
    expect(await rows.nth(1).locator('[role="cell"] .null').textContent()).toBe('NULL');
    const header = await page.locator('[data-testid="result-grid"] [role="columnheader"]').allTextContents();
    expect(header).toEqual(['#', 'idinteger', 'nametext']);
    await page.getByTestId('messages-tab').click();
    expect(await page.getByTestId('command-result').allTextContents()).toContain(
      'Statement 2: INSERT — 2 rows affected',
    );
    await screenshot(page, 'typed-script');
    // History re-opens the run: its SQL back in the editor, its rows shown again.
    await typeInEditor(page, 'SELECT 42;');
    await page.getByTestId('history-entry').first().getByRole('button').click();
    await expect.poll(() => editorText(page)).toContain('CREATE TABLE pets');
    await page.getByTestId('result-tab').first().click();
    await expect.poll(() => page.getByTestId('result-row').count()).toBe(2);
  }, 90_000);

  it('completes the tables of the instance and runs the statement under the cursor with Ctrl+Shift+Enter', async () => {
    const { page } = await open('completion');
    await typeInEditor(page, "CREATE TABLE zoo (animal text, legs int);\nINSERT INTO zoo VALUES ('cat', 4);");
    expect(await runWithKeys(page, RUN)).toBe('ok');
    await typeInEditor(page, 'SELECT * FROM zo');
    // The schema is fetched after the run: ask for suggestions until it arrived.
    const suggestions = page.locator('.suggest-widget .monaco-list-row');
    await expect
      .poll(
        async () => {
          await page.keyboard.press('Escape');
          await page.keyboard.press('Control+Space');
          await suggestions
            .first()
            .waitFor({ timeout: 5_000 })
            .catch(() => {});
          return suggestions.allTextContents();
        },
        { timeout: 30_000 },
      )
      .toEqual(expect.arrayContaining([expect.stringContaining('zoo')]));
    await screenshot(page, 'completion');
    await page.keyboard.press('Escape');
    await typeInEditor(page, 'SELECT 1 AS first;\nSELECT legs AS second FROM zoo;');
    expect(await runWithKeys(page, 'ControlOrMeta+Shift+Enter')).toBe('ok');
    expect(await page.getByTestId('result-tab').count()).toBe(1);
    expect(await page.locator('[data-testid="result-grid"] [role="columnheader"]').allTextContents()).toEqual([
      '#',
      'secondinteger',
    ]);
  }, 90_000);

  it('marks a syntax error at its line in the editor before anything ran', async () => {
    const { page } = await open('syntax-error');
    await typeInEditor(page, 'SELECT 1;\nSELEC 2;\nSELECT 3;');
    const problem = page.locator('[data-testid="problem"][data-source="plan"]');
    await problem.waitFor({ timeout: 20_000 });
    expect(await problem.getAttribute('data-line')).toBe('2');
    expect(await problem.getAttribute('data-column')).toBe('1');
    expect(await problem.textContent()).toContain('42601');
    // Monaco draws the marker: a squiggle in the editor.
    await page.locator('[data-testid="editor"] .squiggly-error').first().waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('run-panel').count()).toBe(0);
    await screenshot(page, 'syntax-error');
  }, 60_000);

  it('sends the run from the Ctrl+Enter key press and changes nothing on the page until its task ended', async () => {
    // Chromium holds every task after a key press whose handler left a frame to draw, the reply's included
    // (DeferRendererTasksAfterInput): the page's own updates wait for the task after the key press's.
    const { page } = await open('key-press-task');
    // A failed run first: its error, marker and problem are what the next run clears.
    await typeInEditor(page, 'SELECT * FROM nowhere;');
    expect(await runWithKeys(page, RUN)).toBe('error');
    await page.locator('[data-testid="problem"][data-source="run"]').waitFor({ timeout: 10_000 });
    await typeInEditor(page, 'SELECT 1 AS one;');
    // In the page (a string: this project's types have no DOM): what happens before the key press's task ends.
    await page.evaluate(`(() => {
      const seen = { inKeyPress: false, fetches: [], mutations: [], frames: 0 };
      window.keyPressTask = seen;
      // Posted from the first listener of the key press, so it runs right after that task (and its microtasks).
      const after = new MessageChannel();
      after.port1.onmessage = () => { seen.inKeyPress = false; };
      window.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey)) return;
        seen.inKeyPress = true;
        after.port2.postMessage(null);
      }, { capture: true });
      new MutationObserver((records) => {
        if (!seen.inKeyPress) return;
        for (const r of records) seen.mutations.push(r.type + ' ' + r.target.nodeName + ' ' + (r.attributeName ?? ''));
      }).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
      const { fetch, requestAnimationFrame } = window;
      window.fetch = (input, init) => {
        if (seen.inKeyPress) seen.fetches.push(String(input));
        return fetch(input, init);
      };
      window.requestAnimationFrame = (callback) => {
        if (seen.inKeyPress) seen.frames++;
        return requestAnimationFrame(callback);
      };
    })()`);
    expect(await runWithKeys(page, RUN)).toBe('ok');
    const seen = await page.evaluate('window.keyPressTask');
    expect(seen).toEqual({ inKeyPress: false, fetches: ['/api/runs'], mutations: [], frames: 0 });
    // And the page then shows the run as before: its rows, no error, no problem left from the failed run.
    expect(await page.getByTestId('result-row').first().locator('[role="cell"]').allTextContents()).toEqual(['1']);
    expect(await page.getByTestId('run-error').count()).toBe(0);
    expect(await page.locator('[data-testid="problem"]').count()).toBe(0);
  }, 90_000);

  it("draws a run's first rows in a frame of their own: one commit with every row in view, nothing else before it is drawn", async () => {
    const { page } = await open('first-rows-frame');
    // 200 rows of one column: a few KiB, so the stream sends them with the run's end (done) in one read.
    await typeInEditor(page, 'SELECT g FROM generate_series(1, 200) g;');
    // A first run: the next run's grid replaces this one.
    expect(await runWithKeys(page, RUN)).toBe('ok');
    await page.evaluate(`(() => {
      const seen = { rowsAtFirstCommit: undefined, later: [], frameDrawn: false };
      window.firstRowsFrame = seen;
      // The grid marks its first commit with rows (a layout effect): how many rows the DOM holds then.
      const mark = performance.mark.bind(performance);
      performance.mark = (name, options) => {
        if (name === 'taidon:first-row-rendered' && seen.rowsAtFirstCommit === undefined)
          seen.rowsAtFirstCommit = document.querySelectorAll('[data-testid="result-row"]').length;
        return mark(name, options);
      };
      const grid = () => document.querySelector('[data-testid="result-grid"]');
      const previousGrid = grid();
      const previousRun = previousGrid?.getAttribute('data-run');
      let inserted = false;
      new MutationObserver((records) => {
        if (seen.frameDrawn) return;
        if (inserted) {
          for (const r of records) seen.later.push(r.type + ' ' + r.target.nodeName + ' ' + (r.target.textContent ?? '').slice(0, 40));
          return;
        }
        const shown = grid();
        // The grid of the last run is not the new run's (a grid of its own, or the same one showing the new run).
        const isNew = shown && (shown !== previousGrid || shown.getAttribute('data-run') !== previousRun);
        if (!isNew || !shown.querySelector('[data-testid="result-row"]')) return;
        // The new run's rows are in: what changes before the frame showing them was drawn is recorded.
        inserted = true;
        requestAnimationFrame(() => {
          const after = new MessageChannel();
          after.port1.onmessage = () => { seen.frameDrawn = true; };
          after.port2.postMessage(null);
        });
      }).observe(document.querySelector('.results-pane'), { subtree: true, childList: true, attributes: true, characterData: true });
    })()`);
    expect(await runWithKeys(page, RUN)).toBe('ok');
    await page.waitForFunction('window.firstRowsFrame.frameDrawn', null, { timeout: 10_000 });
    const seen = (await page.evaluate('window.firstRowsFrame')) as { rowsAtFirstCommit: number; later: string[] };
    // Before: a new grid's first commit held no row at all (the virtualizer knew no size yet), then it measured the
    // scroller and rendered the rest; and the run's end (the summary's "so far…" gone, the tab's count) was rendered
    // in the frame that showed the rows, before it was drawn.
    expect(seen.rowsAtFirstCommit).toBe(await page.getByTestId('result-row').count());
    expect(seen.rowsAtFirstCommit).toBeGreaterThan(10);
    expect(seen.later).toEqual([]);
    // The run's end is shown in the frame after.
    await page
      .getByTestId('result-summary')
      .filter({ hasText: /^200 rows$/ })
      .waitFor({ timeout: 10_000 });
  }, 90_000);

  it('marks a syntax error from the run itself, with no plan request, when Ctrl+Enter follows typing', async () => {
    const { page } = await open('syntax-error-run');
    const sent: { at: number; body: string }[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/plan')
        sent.push({ at: Date.now(), body: request.postData() ?? '' });
    });
    // Run within the plan's debounce: the run's 422 answers what the plan would have, so no plan is sent.
    await typeInEditor(page, 'SELECT 1;\nSELEC 2;');
    expect(await runWithKeys(page, RUN)).toBe('error');
    // On a loaded machine the page's starting text, or the pause before the key press, may outlast a debounce
    // and be planned before the run: what counts is that nothing is planned once the run answered (a plan the
    // key press left pending would leave 500 ms after the typing, well after a run's answer on a quiet machine).
    const answeredAt = Date.now();
    const plans = () => sent.filter((p) => p.at >= answeredAt).map((p) => p.body);
    const problem = page.locator('[data-testid="problem"][data-source="run"]');
    expect(await problem.getAttribute('data-line')).toBe('2');
    expect(await problem.getAttribute('data-column')).toBe('1');
    expect(await problem.textContent()).toContain('42601');
    await page.locator('[data-testid="editor"] .squiggly-error').first().waitFor({ timeout: 10_000 });
    // Well past the debounce (500 ms): still no plan of the text that ran.
    await page.waitForTimeout(1_500);
    expect(plans()).toEqual([]);
    // An edit is new text: it is planned again while typing, and marked by the plan.
    await page.keyboard.type(' SELEC 3;');
    await page.locator('[data-testid="problem"][data-source="plan"]').waitFor({ timeout: 20_000 });
    expect(plans()).toHaveLength(1);
    expect(plans()[0]).toContain('SELEC 3');
  }, 60_000);

  it('shows a runtime error with its SQLSTATE and marks its position', async () => {
    const { page } = await open('runtime-error');
    await typeInEditor(page, 'SELECT 1;\nSELECT * FROM nowhere;');
    expect(await runWithKeys(page, RUN)).toBe('error');
    expect(await page.getByTestId('sqlstate').textContent()).toBe('42P01');
    expect(await page.getByTestId('run-error').textContent()).toContain('relation "nowhere" does not exist');
    expect(await page.getByTestId('error-position').textContent()).toContain('line 2, column 15');
    const problem = page.locator('[data-testid="problem"][data-source="run"]');
    expect(await problem.getAttribute('data-line')).toBe('2');
    await screenshot(page, 'runtime-error');
  }, 90_000);

  it('shows the phase while running and cancels a long statement', async () => {
    const { page } = await open('cancel');
    await typeInEditor(page, 'SELECT pg_sleep(30);');
    await page.keyboard.press(RUN);
    await expect.poll(() => page.getByTestId('run-phase').textContent(), { timeout: 30_000 }).toBe('executing');
    await screenshot(page, 'cancel-running');
    await page.getByRole('button', { name: 'Cancel the run' }).click();
    await page.locator('[data-testid="run-panel"][data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('run-status').textContent()).toContain('Cancelled (request)');
  }, 60_000);

  it('serves a second run of the same tail from its cached layer, and says so', async () => {
    const { page } = await open('cached-layer');
    await typeInEditor(
      page,
      'CREATE TABLE seeded AS SELECT g AS id FROM generate_series(1, 20000) g;\n-- @head\nSELECT count(*) FROM seeded;',
    );
    expect(await runWithKeys(page, RUN)).toBe('ok');
    expect(Number(await page.getByTestId('steps-replayed').textContent())).toBe(1);
    // Reset: a new session, so the next run needs the tail's state again.
    await page.getByTestId('reset-button').click();
    expect(await runWithKeys(page, RUN)).toBe('ok');
    const source = page.getByTestId('state-source');
    expect(await source.getAttribute('data-source')).toBe('clone');
    expect(await source.textContent()).toBe('cached layer');
    expect(await page.getByTestId('steps-replayed').textContent()).toBe('0');
    expect(await page.getByTestId('result-row').locator('[role="cell"]').allTextContents()).toEqual(['20000']);
    await screenshot(page, 'cached-layer');
  }, 90_000);

  it('streams 100,000 rows into the grid and scrolls to the last one', async () => {
    const { page } = await open('hundred-thousand-rows');
    await typeInEditor(page, 'SELECT g AS n, md5(g::text) AS hash FROM generate_series(1, 100000) g;');
    expect(await runWithKeys(page, RUN, 90_000)).toBe('ok');
    const grid = page.getByTestId('result-grid');
    expect(await grid.getAttribute('data-rows')).toBe('100000');
    expect(await page.getByTestId('truncated').count()).toBe(0);
    // Only the rows in view are in the DOM.
    expect(await page.getByTestId('result-row').count()).toBeLessThan(200);
    await grid.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    const last = page.locator('[data-testid="result-row"][data-row="100000"]');
    await last.waitFor({ timeout: 10_000 });
    expect(await last.locator('[role="cell"]').first().textContent()).toBe('100000');
    await screenshot(page, 'hundred-thousand-rows');
    // One row past the server's cap (RUN_MAX_ROWS, 100,000): the truncation is stated.
    await typeInEditor(page, 'SELECT g FROM generate_series(1, 100001) g;');
    expect(await runWithKeys(page, RUN, 90_000)).toBe('ok');
    expect(await page.getByTestId('truncated').textContent()).toContain('first 100,000 rows');
  }, 120_000);

  it('upgrades the anonymous account with the account dialog, then signs out to a new anonymous one', async () => {
    const { page } = await open('account');
    await expect.poll(async () => (await storedAuth(page))?.accessToken, { timeout: 20_000 }).toBeTruthy();
    const anonymousId = (await storedAuth(page))?.accountId;
    const account = page.getByRole('button', { name: 'Sign in, sign up or keep your work in an account' });
    await expect.poll(() => account.isEnabled(), { timeout: 20_000 }).toBe(true);
    await account.click();
    const dialog = page.getByRole('dialog', { name: 'Account' });
    await dialog.getByLabel('Email').fill(`learner-${Date.now()}@example.test`);
    await dialog.getByLabel('Password').fill('correct horse battery');
    await dialog.getByRole('button', { name: 'Upgrade this account' }).click();
    await expect.poll(() => page.getByTestId('account-role').textContent(), { timeout: 20_000 }).toBe('Signed in');
    const upgraded = await storedAuth(page);
    expect(upgraded?.accountId).toBe(anonymousId);
    expect(upgraded?.role).not.toBe('anonymous');
    await screenshot(page, 'account');
    // A signed-in account's items are in its menu (ADR 0032's amendment: the top bar stays one line).
    await page.getByTestId('account-menu-button').click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByTestId('account-role').textContent(), { timeout: 20_000 }).toBe('Anonymous');
    expect((await storedAuth(page))?.accountId).not.toBe(anonymousId);
  }, 60_000);

  it('keeps the buffer across a reload', async () => {
    const { page } = await open('reload');
    const marker = `SELECT 'kept ${Date.now()}';`;
    await typeInEditor(page, marker);
    await page.reload();
    await page.locator('[data-testid="editor"] .monaco-editor').waitFor();
    await expect.poll(() => editorText(page)).toContain(marker);
    await screenshot(page, 'reload');
  }, 60_000);
});
