import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorText, launchBrowser, openPage, type Platform, startPlatform, typeInEditor } from './harness.js';

// The editor's tabs in chromium (issue 19, the review's leftovers): a run belongs to the tab it started in,
// each tab keeps its undo history, the tab bar is an ARIA tablist, and two windows share their tabs. One
// platform and one browser for the file, a fresh browser context (its own storage) per test.

const RUN = 'ControlOrMeta+Enter';

describe('the editor tabs in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const open = async (name: string) => {
    const opened = await openPage(browser, platform.url);
    contexts.push(opened.context);
    opened.page.on('pageerror', (error) => console.error(`[${name}] page error:`, error.message));
    await editorReady(opened.page);
    return opened;
  };
  const editorReady = (page: Page) =>
    page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
  const tab = (page: Page, name: string) => page.locator(`[data-testid="editor-tab"][data-name="${name}"]`);

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await platform?.stop();
  }, 60_000);

  it("marks a run's error in the tab it started in, not in the tab shown when it ended", async () => {
    const { page } = await open('background-error');
    await typeInEditor(page, 'SELECT pg_sleep(2);\nSELECT * FROM nowhere;');
    await page.keyboard.press(RUN);
    await tab(page, 'Query 1').locator('.tab-running').waitFor({ timeout: 20_000 });
    await page.getByTestId('tab-new').click();
    await typeInEditor(page, 'SELECT 2;');
    // The first tab's run ends while the second is shown.
    await tab(page, 'Query 1').locator('.tab-running').waitFor({ state: 'detached', timeout: 60_000 });
    await page.waitForTimeout(500);
    expect(await page.locator('[data-testid="problem"][data-source="run"]').count()).toBe(0);
    expect(await page.locator('[data-testid="editor"] .squiggly-error').count()).toBe(0);
    expect(await editorText(page)).toBe('SELECT 2;');

    await tab(page, 'Query 1').getByRole('tab').click();
    const problem = page.locator('[data-testid="problem"][data-source="run"]');
    await problem.waitFor({ timeout: 10_000 });
    expect(await problem.getAttribute('data-line')).toBe('2');
    expect(await problem.getAttribute('data-column')).toBe('15');
    expect(await problem.textContent()).toContain('42P01');
    await page.locator('[data-testid="editor"] .squiggly-error').first().waitFor({ timeout: 10_000 });
    // And back: the second tab still has none.
    await tab(page, 'Query 2').getByRole('tab').click();
    await expect.poll(() => editorText(page)).toBe('SELECT 2;');
    expect(await page.locator('[data-testid="problem"][data-source="run"]').count()).toBe(0);
  }, 120_000);

  it("keeps each tab's undo history across switches (Ctrl+Z undoes that tab's last edit)", async () => {
    const { page } = await open('undo');
    await typeInEditor(page, 'SELECT 1;');
    // A command's edit of its own: toggling the line comment.
    await page.keyboard.press('ControlOrMeta+Slash');
    await expect.poll(() => editorText(page)).toBe('-- SELECT 1;');
    await page.getByTestId('tab-new').click();
    await typeInEditor(page, 'SELECT 2;');
    await page.keyboard.press('ControlOrMeta+Slash');
    await expect.poll(() => editorText(page)).toBe('-- SELECT 2;');

    await tab(page, 'Query 1').getByRole('tab').click();
    await expect.poll(() => editorText(page)).toBe('-- SELECT 1;');
    await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+Z');
    await expect.poll(() => editorText(page)).toBe('SELECT 1;');
    // The undo reached the tab's saved text too: a reload shows it.
    await page.waitForTimeout(600);
    await page.reload();
    await editorReady(page);
    await expect.poll(() => editorText(page)).toBe('SELECT 1;');
    await tab(page, 'Query 2').getByRole('tab').click();
    await expect.poll(() => editorText(page)).toBe('-- SELECT 2;');
  }, 120_000);

  it('holds only tabs in its tablist; arrow keys move between them; the selected one controls the panel', async () => {
    const { page } = await open('tablist');
    await page.getByTestId('tab-new').click();
    await page.getByTestId('tab-new').click();
    await expect.poll(() => page.getByTestId('editor-tab').count()).toBe(3);
    const tablist = page.getByRole('tablist', { name: 'Editor tabs' });
    // What assistive technology sees inside the tablist: tabs, nothing else.
    const inside = await tablist.evaluate((list) =>
      [...list.querySelectorAll('*')]
        .filter((e) => e.closest('[aria-hidden="true"]') === null)
        .filter((e) => e.matches('button, input, a, [tabindex], [role]:not([role="presentation"])'))
        .map((e) => e.getAttribute('role') ?? e.tagName),
    );
    expect(inside).toEqual(['tab', 'tab', 'tab']);
    expect(await page.getByRole('button', { name: 'New tab' }).count()).toBe(1);
    expect(await tablist.getByRole('button').count()).toBe(0);

    const tabs = tablist.getByRole('tab');
    const selected = () => tabs.evaluateAll((els) => els.map((e) => e.getAttribute('aria-selected')));
    expect(await selected()).toEqual(['false', 'false', 'true']);
    await tabs.nth(2).focus();
    await page.keyboard.press('ArrowRight');
    expect(await selected()).toEqual(['true', 'false', 'false']);
    expect(await page.evaluate("document.activeElement?.getAttribute('aria-selected')")).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    expect(await selected()).toEqual(['false', 'true', 'false']);
    // Only the selected tab is in the focus order, and it names the panel it controls.
    expect(await tabs.evaluateAll((els) => els.map((e) => e.getAttribute('tabindex')))).toEqual(['-1', '0', '-1']);
    const controls = await tabs.nth(1).getAttribute('aria-controls');
    const panel = page.locator(`#${controls}`);
    expect(await panel.getAttribute('role')).toBe('tabpanel');
    expect(await panel.getAttribute('aria-labelledby')).toBe(await tabs.nth(1).getAttribute('id'));
    expect(await panel.locator('[data-testid="editor"]').count()).toBe(1);
    await page.keyboard.press('End');
    expect(await selected()).toEqual(['false', 'false', 'true']);
    // Delete closes the focused tab, from the keyboard.
    await page.keyboard.press('Delete');
    await expect.poll(() => tabs.count()).toBe(2);
  }, 120_000);

  it("shares tabs between two windows: each keeps the other's new tab and edits, a close closes in both", async () => {
    const { context, page: one } = await open('two-windows');
    const two = await context.newPage();
    await two.goto(platform.url);
    await editorReady(two);
    await one.getByTestId('tab-new').click();
    await typeInEditor(one, 'SELECT 2 AS from_one;');
    // The second window hears of the first's save (the storage event) and lists its tab.
    await expect.poll(() => two.getByTestId('editor-tab').count(), { timeout: 10_000 }).toBe(2);
    await typeInEditor(two, 'SELECT 1 AS from_two;');
    await expect.poll(() => editorText(two)).toBe('SELECT 1 AS from_two;');
    await tab(one, 'Query 1').getByRole('tab').click();
    await expect.poll(() => editorText(one), { timeout: 10_000 }).toBe('SELECT 1 AS from_two;');
    // The shown tab takes another window's edit too.
    await tab(two, 'Query 1').getByRole('tab').click();
    await typeInEditor(two, 'SELECT 11 AS from_two;');
    await expect.poll(() => editorText(one), { timeout: 10_000 }).toBe('SELECT 11 AS from_two;');

    await one.waitForTimeout(600);
    await one.reload();
    await editorReady(one);
    expect(
      await one.getByTestId('editor-tab').evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))),
    ).toEqual(['Query 1', 'Query 2']);
    await expect.poll(() => editorText(one)).toBe('SELECT 11 AS from_two;');
    await tab(one, 'Query 2').getByRole('tab').click();
    await expect.poll(() => editorText(one)).toBe('SELECT 2 AS from_one;');

    await tab(two, 'Query 2').getByTestId('tab-close').click();
    await expect.poll(() => one.getByTestId('editor-tab').count(), { timeout: 10_000 }).toBe(1);
    await one.waitForTimeout(600);
    await two.reload();
    await editorReady(two);
    expect(await two.getByTestId('editor-tab').count()).toBe(1);
  }, 120_000);

  it('tells the learner once, without a dialog, that a full storage keeps no tabs', async () => {
    const { page } = await open('storage-full');
    await typeInEditor(page, 'SELECT 1;');
    await page.waitForTimeout(600);
    expect(await page.getByTestId('tabs-not-kept').count()).toBe(0);
    // Fill the origin's storage to the last few characters.
    // Evaluated in the page, which has a DOM (these tests are typed without one).
    const filled = await page.evaluate(`(() => {
      let n = 0;
      for (let size = 1 << 20; size >= 8; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            localStorage.setItem('filler.' + n++, 'x'.repeat(size));
          } catch {
            break;
          }
        }
      }
      return n;
    })()`);
    expect(filled).toBeGreaterThan(0);
    await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
    await page.keyboard.insertText(' -- a comment too long for what is left of the storage');
    const notice = page.getByTestId('tabs-not-kept');
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.getAttribute('role')).toBe('status');
    expect(await notice.textContent()).toContain('not being kept');
    expect(await page.getByRole('dialog').count()).toBe(0);
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await page.keyboard.insertText(' more');
    await page.waitForTimeout(800);
    expect(await page.getByTestId('tabs-not-kept').count()).toBe(0);
    await page.evaluate(
      "for (const key of Object.keys(localStorage)) if (key.startsWith('filler.')) localStorage.removeItem(key)",
    );
  }, 120_000);
});
