import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext } from 'playwright-core';
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

// The editor's tools in chromium (issue 19): the schema browser, tabs kept across a reload, result files
// downloaded and read back, and EXPLAIN of a write on a throwaway clone. One platform and one browser for
// the file, a fresh browser context (its own storage, its own anonymous account) per test.

const RUN = 'ControlOrMeta+Enter';

/** Reads CSV as RFC 4180 defines it; an unquoted empty field is NULL, a quoted one the empty string. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) throw new Error(`unterminated quote after ${i}`);
        value += text.slice(i, close);
        i = close + 1;
        if (text[i] !== '"') break;
        value += '"';
        i++;
      }
      row.push(value);
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\r') end++;
      row.push(end === i ? null : text.slice(i, end));
      i = end;
    }
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else if (i < text.length) throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

describe('the editor tools in chromium', () => {
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

  it('shows the table the previous run created, with its columns, keys and indexes; a click inserts its name', async () => {
    const { page } = await open('schema-browser');
    await typeInEditor(
      page,
      [
        'CREATE TABLE gadgets (id int PRIMARY KEY, label text NOT NULL);',
        'CREATE INDEX gadgets_label ON gadgets (label);',
        "INSERT INTO gadgets SELECT g, 'g' || g FROM generate_series(1, 50) g;",
      ].join('\n'),
    );
    expect(await runWithKeys(page, RUN)).toBe('ok');
    const table = page.locator('[data-testid="schema-table"][data-name="gadgets"]');
    await table.waitFor({ timeout: 30_000 });
    expect(await table.getAttribute('data-schema')).toBe('public');
    // Never analyzed, just filled: an estimate all the same (the statistics' live rows, or the planner's guess).
    expect(await table.getByTestId('schema-row-estimate').textContent()).toMatch(/^~[1-9][\d.]*k? rows$/);
    await table.locator('summary').click({ position: { x: 2, y: 4 } });
    const columns = table.getByTestId('schema-column');
    await expect.poll(() => columns.count()).toBe(2);
    expect(await columns.nth(0).textContent()).toMatch(/^id integer not null PK/);
    expect(await columns.nth(1).textContent()).toMatch(/^label text not null/);
    expect(await table.getByTestId('schema-index').allTextContents()).toEqual([
      'unique gadgets_pkey btree (id)',
      'gadgets_label btree (label)',
    ]);
    await screenshot(page, 'schema-browser');

    await typeInEditor(page, 'SELECT count(*) FROM ');
    await table.getByTestId('schema-table-name').click();
    await expect.poll(() => editorText(page)).toBe('SELECT count(*) FROM gadgets');
    expect(await runWithKeys(page, RUN)).toBe('ok');
    expect(await page.getByTestId('result-row').first().locator('[role="cell"]').allTextContents()).toEqual(['50']);
  }, 120_000);

  it('keeps tabs (buffer, mode, name, the one shown) across a reload, each with its own results', async () => {
    const { page } = await open('tabs');
    await typeInEditor(page, 'SELECT 1 AS first_tab;');
    expect(await runWithKeys(page, RUN)).toBe('ok');
    await page.getByTestId('tab-new').click();
    await expect.poll(() => page.getByTestId('editor-tab').count()).toBe(2);
    // A new tab has its own (empty) buffer and no results.
    expect(await editorText(page)).toBe('');
    expect(await page.getByTestId('result-row').count()).toBe(0);
    await typeInEditor(page, 'SELECT 2 AS second_tab;');
    await page.getByTestId('run-mode').selectOption('continue');
    await page.getByTestId('tab-rename').click();
    await page.getByTestId('tab-name-input').fill('report');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="editor-tab"][data-name="report"]').waitFor();

    await page.reload();
    await page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    const tabs = page.getByTestId('editor-tab');
    expect(
      await tabs.evaluateAll((els) => els.map((e) => [e.getAttribute('data-name'), e.getAttribute('data-active')])),
    ).toEqual([
      ['Query 1', 'false'],
      ['report', 'true'],
    ]);
    await expect.poll(() => editorText(page)).toBe('SELECT 2 AS second_tab;');
    expect(await page.getByTestId('run-mode').inputValue()).toBe('continue');
    await screenshot(page, 'tabs-reloaded');

    await tabs.nth(0).getByRole('tab').click();
    await expect.poll(() => editorText(page)).toBe('SELECT 1 AS first_tab;');
    expect(await page.getByTestId('run-mode').inputValue()).toBe('tail');
    expect(await runWithKeys(page, RUN)).toBe('ok');
    await tabs.nth(1).getByRole('tab').click();
    expect(await page.getByTestId('result-row').count()).toBe(0);
    await tabs.nth(0).getByRole('tab').click();
    expect(await page.locator('[data-testid="result-grid"] [role="columnheader"]').allTextContents()).toEqual([
      '#',
      'first_tabinteger',
    ]);
    await page.locator('[data-testid="editor-tab"][data-name="report"]').getByTestId('tab-close').click();
    await expect.poll(() => tabs.count()).toBe(1);
    await page.reload();
    await page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('editor-tab').count()).toBe(1);
  }, 120_000);

  it('explains the UPDATE under the cursor (Ctrl+E) as a plan tree on a throwaway clone; the rows stay as they were', async () => {
    const { page } = await open('explain');
    await typeInEditor(
      page,
      'CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL);\nINSERT INTO stock SELECT g, 10 FROM generate_series(1, 1000) g;',
    );
    expect(await runWithKeys(page, RUN)).toBe('ok');
    // Two statements: only the one under the cursor (the last) is explained.
    await typeInEditor(page, 'SELECT 1;\nUPDATE stock SET qty = qty + 1 WHERE id <= 500;');
    await page.keyboard.press('ControlOrMeta+E');
    const explain = page.locator('[data-testid="explain"]:not([data-status="running"])');
    await explain.waitFor({ timeout: 90_000 });
    expect(await explain.getAttribute('data-status')).toBe('ok');
    const labels = await page.getByTestId('plan-label').allTextContents();
    expect(labels[0]).toBe('Update on stock');
    expect(labels.length).toBeGreaterThan(1);
    expect(labels.join(' | ')).toMatch(/Scan .*on stock/);
    const root = page.getByTestId('plan-node').first();
    expect(await root.textContent()).toMatch(/ms own · .* ms total/);
    expect(await root.textContent()).toMatch(/buffers shared hit=\d+/);
    expect(await page.locator('[data-testid="plan-node"][data-costly="true"]').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('explain-times').textContent()).toMatch(/planning .* ms · execution .* ms/);
    await screenshot(page, 'explain-tree');
    await page.getByTestId('explain-raw-toggle').click();
    expect(await page.getByTestId('explain-text').textContent()).toMatch(/Update on stock {2}\(cost=.*actual time=/);
    await screenshot(page, 'explain-text');

    // ANALYZE ran the UPDATE, on the clone: the learner's rows are as they were.
    await typeInEditor(page, 'SELECT sum(qty), count(*) FROM stock;');
    expect(await runWithKeys(page, RUN)).toBe('ok');
    expect(await page.getByTestId('result-row').first().locator('[role="cell"]').allTextContents()).toEqual([
      '10000',
      '1000',
    ]);
  }, 180_000);

  it('downloads 100,000 rows as a CSV file that reads back to every row, and as JSON', async () => {
    const { page } = await open('download');
    await typeInEditor(
      page,
      "SELECT g AS id, 'row ' || g AS label, CASE WHEN g % 3 = 0 THEN NULL WHEN g % 1000 = 1 THEN E'two\\nlines, \"quoted\"' WHEN g % 7 = 0 THEN '' ELSE 'a,b' END AS tricky FROM generate_series(1, 100000) g;",
    );
    expect(await runWithKeys(page, RUN, 120_000)).toBe('ok');
    await expect.poll(() => page.getByTestId('result-summary').textContent(), { timeout: 60_000 }).toBe('100,000 rows');
    expect(await page.getByTestId('truncated').count()).toBe(0);
    const expected = (g: number) => [
      String(g),
      `row ${g}`,
      g % 3 === 0 ? null : g % 1000 === 1 ? 'two\nlines, "quoted"' : g % 7 === 0 ? '' : 'a,b',
    ];

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
    expect(csv.suggestedFilename()).toMatch(/^taidon-result-1-\d{8}-\d{4}\.csv$/);
    const rows = parseCsv(await readFile(await csv.path(), 'utf8'));
    expect(rows[0]).toEqual(['id', 'label', 'tricky']);
    expect(rows).toHaveLength(100_001);
    for (let g = 1; g <= 100_000; g++) {
      const row = rows[g];
      if (JSON.stringify(row) !== JSON.stringify(expected(g))) expect(row).toEqual(expected(g));
    }
    await expect.poll(() => page.getByTestId('result-status').textContent()).toBe('Downloaded 100,000 rows as CSV');

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-json').click()]);
    const objects = JSON.parse(await readFile(await json.path(), 'utf8')) as Record<string, string | null>[];
    expect(objects).toHaveLength(100_000);
    expect(objects[999]).toEqual({ id: '1000', label: 'row 1000', tricky: 'a,b' });
    expect(objects[1000]).toEqual({ id: '1001', label: 'row 1001', tricky: 'two\nlines, "quoted"' });
    await screenshot(page, 'download');
  }, 180_000);
});
