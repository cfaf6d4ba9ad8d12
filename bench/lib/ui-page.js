// What bench/ui measures inside the page: one run from Ctrl+Enter to the
// first row painted, split at the points the browser records itself, and
// the frame times of scrolling a result grid. Shared by bench/ui.js only.

/**
 * Presses Ctrl+Enter and returns, in ms from the key press: when fetch was
 * called for POST /api/runs (Resource Timing), when its first byte arrived,
 * when the SPA had the first rows (mark), when it had rendered them (mark),
 * when the frame showing them began (mark, in that frame's animation frame
 * callbacks) and when that frame was presented (Element Timing of the first
 * row's number cell, whose render time is the frame's presentation: the
 * mark does not see work done in its own frame after it); plus the
 * platform's own total for the run, as the run's `done` event gave it
 * (shown in the panel).
 */
export async function measureRun(page, previousRun) {
  await page.evaluate(() => {
    performance.clearMarks();
    performance.clearResourceTimings();
    window.__pressedAt = undefined;
    // Element Timing entries reach an observer only (not performance.getEntries()).
    window.__firstRowShown ??= (() => {
      const shown = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.identifier === 'taidon:first-row') shown.push(e);
      }).observe({ type: 'element' });
      return shown;
    })();
    window.__firstRowShown.length = 0;
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
  // The resource entry of a streamed response is added when its body ends.
  await page.waitForFunction(
    () => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/runs')),
    null,
    { timeout: 10_000 },
  );
  // Told once the frame was presented; a browser without Element Timing never tells (then `presented` is absent).
  await page.waitForFunction(() => window.__firstRowShown.length > 0, null, { timeout: 2_000 }).catch(() => undefined);
  return page.evaluate(() => {
    const at = window.__pressedAt;
    const mark = (name) => {
      const entry = performance.getEntriesByName(name)[0];
      return entry ? entry.startTime - at : undefined;
    };
    const request = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/runs'));
    const total = document.querySelector('[data-testid="total-ms"]')?.textContent ?? '';
    return {
      ms: mark('taidon:first-row-painted'),
      presented: window.__firstRowShown[0] ? window.__firstRowShown[0].renderTime - at : undefined,
      fetch: request ? request.fetchStart - at : undefined,
      firstByte: request ? request.responseStart - at : undefined,
      rows: mark('taidon:first-rows-received'),
      rendered: mark('taidon:first-row-rendered'),
      platformMs: Number(total.replace(/[^0-9.]/g, '')) || undefined,
      source: document.querySelector('[data-testid="state-source"]')?.getAttribute('data-source'),
      warmPool: document.querySelector('[data-testid="state-source"]')?.getAttribute('data-warm-pool'),
      run: document.querySelector('[data-testid="run-panel"]')?.getAttribute('data-run'),
    };
  });
}

/**
 * Scrolls the result grid by `pxPerFrame` in every animation frame for
 * `durationMs` and returns the intervals between frames (rAF timestamps):
 * a frame the page could not finish in time shows as a long interval.
 */
export function scrollFrames(page, { durationMs, pxPerFrame }) {
  return page.evaluate(
    ({ durationMs, pxPerFrame }) =>
      new Promise((resolve) => {
        const grid = document.querySelector('[data-testid="result-grid"]');
        const intervals = [];
        let last;
        let start;
        let direction = 1;
        const frame = (now) => {
          if (last !== undefined) intervals.push(now - last);
          last = now;
          start ??= now;
          if (now - start >= durationMs)
            return resolve({ intervals, rowsInDom: grid.querySelectorAll('[data-testid="result-row"]').length });
          // Back and forth: a long run never sits at either end, where nothing new is drawn.
          if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - pxPerFrame) direction = -1;
          else if (grid.scrollTop <= 0) direction = 1;
          grid.scrollTop += direction * pxPerFrame;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    { durationMs, pxPerFrame },
  );
}

/** Starts listening for the SPA's next `POST /api/runs`; resolves to its headers and body, to send it again. */
export function nextRunRequest(page) {
  return page
    .waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/runs', { timeout: 60_000 })
    .then((r) => ({ headers: r.headers(), body: r.postData() ?? '' }));
}

/**
 * The floor of the same run: the SPA's own request (its token and body) sent
 * again by a bare `fetch` from the page, with no key press and no React;
 * returns, in ms from `fetch` called, when its headers arrived and when the
 * line of the first `rows` event was parsed, and the platform's own total.
 */
export function measureFloor(page, request) {
  return page.evaluate(async ({ headers, body }) => {
    const started = performance.now();
    const response = await fetch('/api/runs', { method: 'POST', headers, body });
    const sample = { firstByte: performance.now() - started, status: response.status };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const event = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (event.type === 'rows') sample.ms ??= performance.now() - started;
        if (event.type === 'done') {
          sample.platformMs = event.timings.totalMs;
          sample.source = event.source;
        }
      }
    }
    return sample;
  }, request);
}
