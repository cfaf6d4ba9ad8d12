import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ENTRY, launchPlatform } from '../apps/local/test/launch.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SPA_INDEX = join(ROOT, 'frontend/main/dist/index.html');
/** Where each test leaves its screenshot. */
export const OUTPUT_DIR = join(ROOT, 'test-output/e2e');

/** The platform started as the README says: `node apps/local/dist/all-in-one.js` on a fresh data directory. */
export interface Platform {
  url: string;
  /** Its TAIDON_DATA_DIR, removed by stop(). */
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the whole platform on a free port and waits for its "up" line. */
export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  for (const needed of [ENTRY, SPA_INDEX]) {
    if (!existsSync(needed)) throw new Error(`${needed} is missing: run \`npm run build\` (npm test does) first`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'taidon-e2e-'));
  const launched = await launchPlatform(dataDir, env, 90_000);
  const child = launched.child;
  const url = await launched.up;
  const output = launched.output;
  return {
    url,
    dataDir,
    output,
    async stop() {
      if (child.exitCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve);
          child.kill('SIGTERM');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's chromium: CHROMIUM_PATH, else the first of the usual places. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error('chromium is not installed: scripts/setup.sh installs it (apt-get install chromium)');
  return found;
}

/** Headless chromium driven by playwright-core. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** A page at 1280×720 that records every request leaving the machine. */
export async function openPage(
  browser: Browser,
  url: string,
): Promise<{ context: BrowserContext; page: Page; foreign: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const foreign: string[] = [];
  const local = new URL(url).host;
  context.on('request', (request) => {
    const target = new URL(request.url());
    if (!['data:', 'blob:'].includes(target.protocol) && target.host !== local) foreign.push(request.url());
  });
  const page = await context.newPage();
  await page.goto(url);
  return { context, page, foreign };
}

/** Saves the page as test-output/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Replaces the editor's text by typing it, as a learner would (Monaco's auto-closing is undone by selecting all first). */
export async function typeInEditor(page: Page, text: string): Promise<void> {
  // A click, as a learner does: Monaco takes input through a hidden textarea or EditContext, depending on the browser.
  await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText types the whole text at once, without auto-indentation or auto-closed brackets and quotes.
  await page.keyboard.insertText(text);
}

/** The id of the run the page shows, or '' before the first. */
async function shownRun(page: Page): Promise<string> {
  const panel = page.locator('[data-testid="run-panel"]');
  return (await panel.count()) > 0 ? ((await panel.getAttribute('data-run')) ?? '') : '';
}

/** Presses `keys` in the editor and waits until the run they start has finished; returns its status. */
export async function runWithKeys(page: Page, keys: string, timeoutMs = 60_000): Promise<string> {
  const before = await shownRun(page);
  await page.keyboard.press(keys);
  const finished = page.locator(`[data-testid="run-panel"]:not([data-run="${before}"]):not([data-status="running"])`);
  await finished.waitFor({ timeout: timeoutMs });
  return (await finished.getAttribute('data-status')) ?? '';
}

/** The text the editor shows (Monaco's rendered lines, non-breaking spaces as spaces). */
export async function editorText(page: Page): Promise<string> {
  return ((await page.locator('[data-testid="editor"] .view-lines').textContent()) ?? '').replace(/\u00a0/g, ' ');
}
