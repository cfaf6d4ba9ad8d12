import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from '@taidon/kit/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';

// The gateway alone: serving the SPA needs no service behind it.
const config = {
  IDP_URL: 'http://127.0.0.1:9',
  SQL_RUNNER_URL: 'http://127.0.0.1:9',
  SERVICE_TOKEN: 'spa-test-token',
  ACCESS_TOKEN_ISSUER: 'taidon-idp',
  ACCESS_TOKEN_AUDIENCE: 'taidon',
  UPSTREAM_TIMEOUT_MS: 1_000,
};

describe('the SPA at /', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'taidon-spa-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Taidon</title><div id="root"></div>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log("app")');
    app = buildApp({ config: { ...config, SPA_DIR: dir }, logger: captureLogger('gateway').logger });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / without a token, revalidated on every visit', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toContain('<div id="root">');
  });

  it('serves hashed assets with a year-long immutable cache', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('console.log("app")');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // A rebuild while the gateway runs: the new asset is found without a restart.
    await writeFile(join(dir, 'assets', 'index-def456.js'), 'console.log("rebuilt")');
    expect((await app.inject({ method: 'GET', url: '/assets/index-def456.js' })).body).toBe('console.log("rebuilt")');
  });

  it('answers any other page path with index.html, for client-side routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/history/42?tab=1' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<div id="root">');
  });

  it('keeps 404 problem+json for unknown API routes and missing assets', async () => {
    for (const url of ['/api/nothing-here', '/assets/missing-000.js']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('says how to build the editor when no bundle exists', async () => {
    const bare = buildApp({
      config: { ...config, SPA_DIR: join(dir, 'not-built') },
      logger: captureLogger('gateway').logger,
    });
    const response = await bare.inject({ method: 'GET', url: '/' });
    await bare.close();
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
  });
});
