// Two builds of the SPA side by side: one platform (this checkout's, started as bench/ui starts it), one chromium
// context (and anonymous account) per build, session runs of the same SELECT alternated run by run, so both builds
// see the same platform and the same load; bench/ui run twice on a shared machine differs by more than the change.
// Each context is served its build's files (index.html and assets/) from its directory; /api goes to the platform.
// Prints, per build, the p50 of bench/ui's points after the key press (lib/ui-page.js) and of the first row's frame
// mark and presentation (Element Timing) after the rows were parsed.
// Run: flock /tmp/taidon-bench.lock node bench/ui-pair.js <spa-dir-a> <spa-dir-b> [samples per build, 30]
// Knobs (environment): BENCH_UI_ROWS (1000), CHROMIUM_PATH.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort } from '../backend/kit/dist/index.js';
import { measureRun } from './lib/ui-page.js';

const TREE = fileURLToPath(new URL('..', import.meta.url));
const [A, B] = process.argv.slice(2, 4).map((d) => resolve(d));
if (!A || !B) throw new Error('usage: node bench/ui-pair.js <spa-dir-a> <spa-dir-b> [samples]');
const N = Number(process.argv[4] ?? 30);
const ROWS = Number(process.env.BENCH_UI_ROWS ?? 1000);
const HEAD = `SELECT g AS n, md5(g::text) AS hash FROM generate_series(1, ${ROWS}) g;`;
const loadAtStart = loadavg()[0];
const dataDir = await mkdtemp(join(tmpdir(), 'taidon-paired-'));
const port = await freePort();
const child = spawn(process.execPath, [join(TREE, 'apps/local/dist/all-in-one.js')], {
  env: {
    ...process.env,
    PORT: String(port),
    TAIDON_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    TAIDON_EXAMPLE_PACKS: 'skip',
    SPA_DIR: A,
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
child.stdout.on('data', (c) => (output += c));
child.stderr.on('data', (c) => (output += c));
const url = await new Promise((resolve, reject) => {
  child.stdout.on('data', () => {
    const m = /Taidon is up at (http:\/\/\S+)/.exec(output);
    if (m) resolve(m[1]);
  });
  child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
});
const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.ttf': 'font/ttf' };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
const sides = [];
try {
  for (const [name, dir] of [
    ['a', A],
    ['b', B],
  ]) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await context.route(`${url}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path.startsWith('/api/')) return route.continue();
      const file = path.startsWith('/assets/') ? join(dir, path) : join(dir, 'index.html');
      const body = await readFile(file).catch(() => null);
      if (!body) return route.continue();
      return route.fulfill({ body, contentType: types[extname(file)] ?? 'application/octet-stream' });
    });
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('[data-testid="editor"] .monaco-editor .view-lines').click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(HEAD);
    const side = { name, page, previous: '', samples: [], last: 0 };
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      side.previous = (await measureRun(page, side.previous)).run;
    }
    sides.push(side);
  }
  for (let i = 0; i < N; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const wait = side.last + 1100 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      side.last = performance.now();
      const s = await measureRun(side.page, side.previous);
      side.previous = s.run;
      if (s.source === 'session') side.samples.push(s);
    }
  }
} finally {
  await browser.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dataDir, { recursive: true, force: true });
}
const p50 = (v) => {
  const s = v.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const keys = ['fetch', 'firstByte', 'rows', 'rendered', 'ms', 'presented', 'platformMs'];
console.log(
  `${ROWS} rows, ${N} runs per build, alternated, load ${loadAtStart.toFixed(1)} -> ${loadavg()[0].toFixed(1)}; p50 ms after the key press (a: ${A}, b: ${B})`,
);
console.log(`side ${keys.map((k) => k.padStart(10)).join('')}${'mark-rows'.padStart(11)}${'pres-rows'.padStart(11)}`);
for (const s of sides) {
  const d = (k) => p50(s.samples.map((x) => (x[k] === undefined ? undefined : x[k] - x.rows)));
  console.log(
    `${s.name}    ${keys.map((k) => (p50(s.samples.map((x) => x[k])) ?? NaN).toFixed(1).padStart(10)).join('')}${d('ms').toFixed(1).padStart(11)}${d('presented').toFixed(1).padStart(11)}`,
  );
}
