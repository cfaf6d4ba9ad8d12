// Time from pressing Ctrl+Enter in the editor to the first result row
// painted, measured in the browser (performance.now() at the key press,
// a performance mark in the frame after the grid rendered its first row),
// for runs served by the warm pool (a head without tail on a fresh session)
// and for runs continuing the session's own instance. Starts the platform
// as `npm start` does, drives Debian's chromium with playwright-core, and
// prints one table. Also prints the production bundle's size.
// Run after `npm run build`: node bench/ui.js
// Knobs (environment): BENCH_UI_SAMPLES (10), CHROMIUM_PATH.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from '../backend/kit/dist/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = Number(process.env.BENCH_UI_SAMPLES ?? 10);
const HEAD = 'SELECT g AS n, md5(g::text) AS hash FROM generate_series(1, 1000) g;';

async function startPlatform() {
  const dataDir = await mkdtemp(join(tmpdir(), 'taidon-bench-ui-'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'apps/local/dist/all-in-one.js')], {
    env: { ...process.env, PORT: String(port), TAIDON_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => {
    output += c;
  });
  child.stderr.on('data', (c) => {
    output += c;
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 120 s:\n${output}`)), 120_000);
    child.stdout.on('data', () => {
      const match = /Taidon is up at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  return { url, stop };
}

/** Presses Ctrl+Enter and returns the ms until the first row was painted, as the page measured it. */
async function measure(page, previousRun) {
  await page.evaluate(() => {
    performance.clearMarks();
    window.__pressedAt = undefined;
    // Capture phase on window: before Monaco sees the key. Control's own keydown comes first and is skipped.
    window.__onKey ??= (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) window.__pressedAt ??= performance.now();
    };
    window.addEventListener('keydown', window.__onKey, { capture: true });
  });
  await page.keyboard.press('ControlOrMeta+Enter');
  await page
    .locator(`[data-testid="run-panel"]:not([data-run="${previousRun}"]):not([data-status="running"])`)
    .waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => performance.getEntriesByName('taidon:first-row-painted').length > 0, null, {
    timeout: 10_000,
  });
  const result = await page.evaluate(() => ({
    ms: performance.getEntriesByName('taidon:first-row-painted')[0].startTime - window.__pressedAt,
    source: document.querySelector('[data-testid="state-source"]')?.getAttribute('data-source'),
    warmPool: document.querySelector('[data-testid="state-source"]')?.getAttribute('data-warm-pool'),
    run: document.querySelector('[data-testid="run-panel"]')?.getAttribute('data-run'),
  }));
  return result;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function bundleBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    total += statSync(path).isDirectory() ? bundleBytes(path) : statSync(path).size;
  }
  return total;
}

async function main() {
  const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
  if (!chromiumPath) throw new Error('chromium is not installed (scripts/setup.sh installs it)');
  const platform = await startPlatform();
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  const rows = { pool: [], session: [] };
  const sources = new Set();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.goto(platform.url);
    await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(HEAD);
    let previous = '';
    // One discarded run: the first run of a page loads the grid code paths and JITs.
    ({ run: previous } = await measure(page, previous));
    for (let i = 0; i < SAMPLES; i++) {
      // Reset: a new session, so the run takes an instance of the empty database from the warm pool.
      await page.getByTestId('reset-button').click();
      await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
      const pool = await measure(page, previous);
      previous = pool.run;
      sources.add(`${pool.source}${pool.warmPool === 'true' ? ' (warm pool)' : ''}`);
      if (pool.source === 'pool' || pool.warmPool === 'true') rows.pool.push(pool.ms);
      const session = await measure(page, previous);
      previous = session.run;
      if (session.source === 'session') rows.session.push(session.ms);
    }
  } finally {
    await browser.close();
    await platform.stop();
  }
  const fmt = (n) => (n === undefined ? '—' : `${n.toFixed(0)} ms`);
  console.log(`\nCtrl+Enter → first row painted, measured in chromium (${SAMPLES} samples each, 1,000-row SELECT)\n`);
  console.log(
    `${'state from'.padEnd(28)}${'n'.padStart(4)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'max'.padStart(10)}`,
  );
  for (const [name, values] of [
    ['warm pool (new session)', rows.pool],
    ['session instance (REPL)', rows.session],
  ]) {
    console.log(
      `${name.padEnd(28)}${String(values.length).padStart(4)}${fmt(percentile(values, 50)).padStart(10)}${fmt(percentile(values, 95)).padStart(10)}${fmt(Math.max(...values)).padStart(10)}`,
    );
  }
  console.log(`\nsources seen for new sessions: ${[...sources].join(', ')}`);
  console.log(`production bundle: ${(bundleBytes(join(ROOT, 'frontend/main/dist')) / 1024).toFixed(0)} KiB`);
}

await main();
