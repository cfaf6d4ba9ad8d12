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

// Share links in chromium (ADR 0027): a learner shares a tail and a head; a second, anonymous browser context
// opens the link, sees the SQL read-only, runs it from the shared state's layer and gets the same rows (the
// tail draws random(), so only the layer gives them back); a revoked link answers 404.

const RUN = 'ControlOrMeta+Enter';
const rowsShown = async (page: Page) => {
  const rows = page.getByTestId('result-row');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push(await rows.nth(i).locator('[role="cell"]').allTextContents());
  return out;
};

describe('share links in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform(), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await platform?.stop();
  }, 60_000);

  it('opens a link in an anonymous context read-only, runs it on the shared state with zero steps replayed and the same rows; revoked, it answers 404', async () => {
    const owner = await openPage(browser, platform.url);
    contexts.push(owner.context);
    await owner.page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    await typeInEditor(
      owner.page,
      'CREATE TABLE luck AS SELECT g, random() AS r FROM generate_series(1, 3) g;\n-- @head\nSELECT g, r FROM luck ORDER BY g;',
    );
    expect(await runWithKeys(owner.page, RUN)).toBe('ok');
    const ownerRows = await rowsShown(owner.page);
    expect(ownerRows).toHaveLength(3);

    await owner.page.getByTestId('share-button').click();
    const urlField = owner.page.getByTestId('share-url');
    await expect.poll(() => urlField.inputValue(), { timeout: 20_000 }).toMatch(/\/s\/[A-Za-z0-9_-]{22}$/);
    const url = await urlField.inputValue();
    expect(new URL(url).origin).toBe(new URL(platform.url).origin);
    await screenshot(owner.page, 'share-dialog');
    await owner.page.getByRole('button', { name: 'Close', exact: true }).click();

    // A second browser context: its own storage, so its own anonymous account; it never signed in before.
    const stranger = await openPage(browser, url);
    contexts.push(stranger.context);
    const { page } = stranger;
    await page.locator('[data-testid="share-banner"][data-state="read-only"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('editor').getAttribute('data-read-only')).toBe('true');
    await expect.poll(() => editorText(page)).toContain('SELECT g, r FROM luck ORDER BY g;');
    expect(await editorText(page)).toContain('CREATE TABLE luck');
    // Read-only: typing changes nothing.
    await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
    await page.keyboard.insertText('DROP TABLE luck;');
    expect(await editorText(page)).not.toContain('DROP TABLE');

    expect(await runWithKeys(page, RUN)).toBe('ok');
    expect(await page.getByTestId('steps-replayed').textContent()).toBe('0');
    expect(await page.getByTestId('state-source').textContent()).toBe('cached layer');
    expect(await rowsShown(page)).toEqual(ownerRows);
    await screenshot(page, 'share-opened');

    // The owner revokes it from the Share dialog (which lists the account's links).
    const id = url.split('/s/')[1] as string;
    await owner.page.getByTestId('share-button').click();
    const item = owner.page.locator(`[data-testid="share-item"][data-id="${id}"]`);
    await item.waitFor({ timeout: 20_000 });
    await item.getByTestId('share-revoke').click();
    await item.waitFor({ state: 'detached', timeout: 20_000 });

    const reopened = await page.goto(url);
    expect(reopened?.status()).toBe(404);
    await page.locator('[data-testid="share-banner"][data-state="missing"]').waitFor({ timeout: 30_000 });
    const api = await page.evaluate(
      `fetch('/api/shares/${id}').then(async (r) => ({ status: r.status, body: await r.json() }))`,
    );
    expect(api).toMatchObject({ status: 404, body: { code: 'SQL_RUNNER_SHARE_NOT_FOUND' } });
    await screenshot(page, 'share-revoked');
  }, 180_000);

  it('carries the owner’s results only when they include them, shown to the opener until their own run', async () => {
    const owner = await openPage(browser, platform.url);
    contexts.push(owner.context);
    await owner.page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    await typeInEditor(owner.page, 'SELECT g, md5(g::text) AS h FROM generate_series(1, 4) g ORDER BY g;');
    expect(await runWithKeys(owner.page, RUN)).toBe('ok');
    const ownerRows = await rowsShown(owner.page);
    expect(ownerRows).toHaveLength(4);

    await owner.page.getByTestId('share-button').click();
    const urlField = owner.page.getByTestId('share-url');
    await expect.poll(() => urlField.inputValue(), { timeout: 20_000 }).toMatch(/\/s\/[A-Za-z0-9_-]{22}$/);
    const without = await urlField.inputValue();
    await owner.page.getByTestId('share-include-results').click();
    await owner.page.getByTestId('share-with-results').waitFor({ timeout: 20_000 });
    const withResults = await urlField.inputValue();
    expect(withResults).not.toBe(without);
    await owner.page.getByRole('button', { name: 'Close', exact: true }).click();

    const stranger = await openPage(browser, withResults);
    contexts.push(stranger.context);
    const { page } = stranger;
    await page.locator('[data-testid="share-banner"][data-state="read-only"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('share-banner').textContent()).toContain('its author saw');
    // Before any run of the opener's: the owner's rows.
    await expect.poll(() => rowsShown(page), { timeout: 20_000 }).toEqual(ownerRows);
    await screenshot(page, 'share-with-results');
    // The link made first, without them, stays as it was (it may have been copied): it carries no results.
    const first = without.split('/s/')[1] as string;
    const answer = await page.evaluate(`fetch('/api/shares/${first}').then(async (r) => [r.status, await r.json()])`);
    expect(answer).toEqual([200, expect.not.objectContaining({ results: expect.anything() })]);
  }, 180_000);
});
