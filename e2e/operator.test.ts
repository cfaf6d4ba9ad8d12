import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaunchedPlatform, launchPlatform } from '../apps/local/test/launch.js';
import { launchBrowser, openPage, runWithKeys, screenshot, typeInEditor } from './harness.js';

// The operator page in chromium (issue 21, ADR 0038): the first admin made as the README says (npm start with
// TAIDON_ADMIN_EMAIL and TAIDON_ADMIN_PASSWORD), signed in through the account dialog, finds "Operator" in the
// account menu and sees the platform's figures; a learner's run moves them while the page stays open (it asks
// again every few seconds); a learner has no such entry.

const RUN = 'ControlOrMeta+Enter';
const PASSWORD = 'correct horse battery';
const ADMIN_EMAIL = `admin-${Date.now()}@example.test`;

async function stop(platform: LaunchedPlatform | undefined): Promise<void> {
  if (!platform || platform.child.exitCode !== null) return;
  platform.child.kill('SIGTERM');
  await platform.exited;
}

/** Signs in (or up) through the account dialog, as a person does, and waits for the signed-in state. */
async function signInWithDialog(page: Page, email: string, action: 'Sign in' | 'Sign up'): Promise<void> {
  const account = page.getByRole('button', { name: 'Sign in, sign up or keep your work in an account' });
  await expect.poll(() => account.isEnabled(), { timeout: 20_000 }).toBe(true);
  await account.click();
  const dialog = page.getByRole('dialog', { name: 'Account' });
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await expect.poll(() => page.getByTestId('account-role').textContent(), { timeout: 20_000 }).toBe('Signed in');
}

const figure = async (page: Page, name: string) => (await page.getByTestId(`figure-${name}`).textContent()) ?? '';
const stateCount = async (page: Page, state: string): Promise<number> => {
  const row = page.getByTestId('table-instances-by-state').locator('tr', { hasText: state });
  if ((await row.count()) === 0) return 0;
  return Number((await row.first().locator('td').nth(1).textContent())?.replace(/,/g, ''));
};

describe('the operator page in chromium', () => {
  let dataDir: string;
  let platform: LaunchedPlatform | undefined;
  let url: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'taidon-e2e-operator-'));
    browser = await launchBrowser();
    platform = await launchPlatform(
      dataDir,
      { TAIDON_ADMIN_EMAIL: ADMIN_EMAIL, TAIDON_ADMIN_PASSWORD: PASSWORD, TAIDON_EXAMPLE_PACKS: 'skip' },
      90_000,
    );
    url = await platform.up;
  }, 240_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await stop(platform);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('shows an admin the figures, which a learner’s run moves while the page is open; a learner has no entry', async () => {
    const admin = await openPage(browser, url);
    contexts.push(admin.context);
    await signInWithDialog(admin.page, ADMIN_EMAIL, 'Sign in');
    // At 1280 px the admin's top bar is one line: its account items are in one menu.
    const boxes = await admin.page
      .locator('header.topbar > *')
      .evaluateAll((els) =>
        els
          .map((e) => ({ name: e.className || e.tagName, ...e.getBoundingClientRect().toJSON() }))
          .filter((b) => b.height > 0),
      );
    // One line: every item starts above the bottom of every other.
    const lowestTop = Math.max(...boxes.map((b) => b.top));
    const highestBottom = Math.min(...boxes.map((b) => b.bottom));
    expect(lowestTop, JSON.stringify(boxes)).toBeLessThan(highestBottom);
    const menuButton = admin.page.getByTestId('account-menu-button');
    await menuButton.click();
    expect(await menuButton.getAttribute('aria-expanded')).toBe('true');
    expect(await admin.page.getByRole('menu', { name: 'Account' }).getByRole('menuitem').allTextContents()).toEqual([
      'Operator',
      'Sign out',
    ]);
    await admin.page.keyboard.press('Escape');
    expect(await admin.page.getByRole('menu').count()).toBe(0);
    await menuButton.click();
    await admin.page.getByTestId('operator-button').click();
    const page = admin.page.getByRole('dialog', { name: 'Operator overview' });
    await page.getByTestId('figure-runs-total').waitFor({ timeout: 20_000 });
    for (const section of ['runs', 'cache', 'instances', 'layers', 'auth', 'git']) {
      expect(await page.getByTestId(`operator-${section}`).isVisible(), section).toBe(true);
    }
    expect(await page.getByTestId('operator-unavailable').count()).toBe(0);
    expect(await figure(admin.page, 'layer-bytes')).toMatch(/ \/ \d+\.\d GiB$/);
    const runsBefore = Number((await figure(admin.page, 'runs-total')).replace(/,/g, ''));
    const runningBefore = await stateCount(admin.page, 'Running');

    const learner = await openPage(browser, url);
    contexts.push(learner.context);
    await signInWithDialog(learner.page, `learner-${Date.now()}@example.test`, 'Sign up');
    await learner.page.getByTestId('account-menu-button').click();
    expect(await learner.page.getByRole('menuitem').allTextContents()).toEqual(['Sign out']);
    await learner.page.keyboard.press('Escape');
    expect(await learner.page.getByTestId('operator-button').count()).toBe(0);
    expect(await learner.page.getByRole('button', { name: /Operator overview/ }).count()).toBe(0);
    await learner.page.locator('[data-testid="editor"] .monaco-editor').waitFor({ timeout: 30_000 });
    await typeInEditor(learner.page, 'CREATE TABLE t (id int);\n-- @head\nSELECT count(*) FROM t;');
    expect(await runWithKeys(learner.page, RUN)).toBe('ok');

    // No click on the admin's page: it asks again by itself.
    await expect
      .poll(async () => Number((await figure(admin.page, 'runs-total')).replace(/,/g, '')), { timeout: 30_000 })
      .toBe(runsBefore + 1);
    expect(await stateCount(admin.page, 'Running')).toBeGreaterThan(runningBefore);
    expect(await page.getByTestId('table-runs-by-outcome').locator('tr', { hasText: 'ok' }).count()).toBe(1);
    expect(await page.getByTestId('table-state-ready').locator('tbody tr').count()).toBeGreaterThan(0);
    await screenshot(admin.page, 'operator-page');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    expect(await page.isVisible()).toBe(false);
  }, 180_000);
});
