// A learner's two calls through the gateway, as the benches make them: an anonymous sign-in, and a run read to
// its end. Plain ESM; shared by bench/cost, bench/hop-counts, bench/grading and bench/lib/runs-env.js (bench/runs).
import { performance } from 'node:perf_hooks';
import { eventReader } from './ndjson.js';

/** `signIn()` answers an anonymous learner's access token; `run(token, body)` what a run's stream said. */
export function gatewayClient(url) {
  return {
    async signIn() {
      const r = await fetch(`${url}/api/auth/anonymous`, { method: 'POST' });
      if (!r.ok) throw new Error(`sign-in answered ${r.status}: ${await r.text()}`);
      return (await r.json()).accessToken;
    },
    /**
     * POST /api/runs read to its end: the session, the last `done` or `cancelled` event, the rows, the ms from
     * sending the request to the first `rows` event (read as the stream comes) and the `error` events (a refusal
     * before the stream, 4xx or 5xx as problem+json, throws).
     */
    async run(token, body) {
      const started = performance.now();
      const response = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.headers.get('content-type')?.startsWith('application/x-ndjson')) {
        throw new Error(`run answered ${response.status}: ${await response.text()}`);
      }
      const next = eventReader(response.body);
      let sessionId;
      let done;
      let firstRowMs;
      const rows = [];
      const errors = [];
      for (let event = await next(); event; event = await next()) {
        if (event.type === 'rows') {
          firstRowMs ??= performance.now() - started;
          rows.push(...event.rows);
        } else if (event.type === 'started') sessionId = event.sessionId;
        else if (event.type === 'error') errors.push(event);
        else if (event.type === 'done' || event.type === 'cancelled') done = event;
      }
      return { sessionId, done, rows, firstRowMs, errors };
    },
  };
}

/** A run that did not end `done` with outcome ok, or told an error, as an Error; else nothing. */
export function runFailure({ done, errors }) {
  if (errors.length > 0 || done?.type !== 'done' || done.outcome !== 'ok') {
    return new Error(`run failed: ${JSON.stringify({ errors, done })}`);
  }
  return undefined;
}
