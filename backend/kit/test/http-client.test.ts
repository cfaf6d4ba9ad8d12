import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequest, streamRequest } from '../src/http-client.js';

// A collection at any moment, as under load: what a deadline must survive.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

let server: Server;
let url: URL;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/silent') return; // never answers
    if (request.url === '/slow-body') {
      response.writeHead(200);
      response.write('first');
      return; // and never ends
    }
    if (request.url === '/chunks') {
      response.writeHead(200);
      response.write('é'.repeat(40_000)); // split across reads, a character across chunks
      setTimeout(() => response.end('-end'), 20);
      return;
    }
    if (request.url === '/cut') {
      response.writeHead(200);
      response.write('part');
      setTimeout(() => response.socket?.destroy(), 20);
      return;
    }
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Settles `promise`, collecting garbage every 10 ms meanwhile; how and when, or 'pending' after `ms`. */
async function settleUnderCollection(promise: Promise<unknown>, ms: number): Promise<string> {
  const started = performance.now();
  const collector = setInterval(collect, 10);
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved',
        (error: Error) => `rejected ${error.name} after ${Math.round(performance.now() - started)} ms`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('pending'), ms)),
    ]);
  } finally {
    clearInterval(collector);
  }
}

describe('requests between services', () => {
  it('keeps its deadline when garbage is collected while it waits for an answer', async () => {
    const outcome = await settleUnderCollection(
      sendRequest(new URL('/silent', url), { method: 'GET', headers: {}, timeoutMs: 300 }),
      3000,
    );
    expect(outcome).toMatch(/^rejected (AbortError|TimeoutError) after \d+ ms$/);
    expect(Number(outcome.match(/after (\d+) ms/)?.[1])).toBeLessThan(1500);
  });

  it('bounds the whole body by the deadline, and a caller signal still aborts first', async () => {
    const body = await settleUnderCollection(
      sendRequest(new URL('/slow-body', url), { method: 'GET', headers: {}, timeoutMs: 300 }),
      3000,
    );
    expect(body).toMatch(/^rejected/);
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 50);
    const aborted = await settleUnderCollection(
      streamRequest(new URL('/silent', url), { method: 'GET', headers: {}, timeoutMs: 5000, signal: caller.signal }),
      3000,
    );
    expect(Number(aborted.match(/after (\d+) ms/)?.[1])).toBeLessThan(1000);
  });

  it('reads a body of many chunks whole, and refuses one cut off before its end', async () => {
    const whole = await sendRequest(new URL('/chunks', url), { method: 'GET', headers: {}, timeoutMs: 5000 });
    expect(whole.text).toBe(`${'é'.repeat(40_000)}-end`);
    const cut = await settleUnderCollection(
      sendRequest(new URL('/cut', url), { method: 'GET', headers: {}, timeoutMs: 5000 }),
      3000,
    );
    expect(cut).toMatch(/^rejected \S+ after \d+ ms$/);
  });

  it('answers within the deadline as before', async () => {
    const response = await sendRequest(new URL('/', url), { method: 'GET', headers: {}, timeoutMs: 1000 });
    expect(response).toMatchObject({ status: 200, text: 'ok' });
  });
});
