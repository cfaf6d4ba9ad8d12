import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_WARM_POOL_EMPTY = '1';

// Share links through the gateway (ADR 0027): made and revoked with a token, read without one, run by
// another account from the pinned state, previewed by the share page's Open Graph tags, audited.

describe('/api/shares through the whole platform', () => {
  let stack: TestStack;
  let control: pg.Pool;

  const api = async (method: string, path: string, token?: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, type: response.headers.get('content-type') ?? '', text, json };
  };

  beforeAll(async () => {
    stack = await startTestStack();
    control = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  }, 120_000);
  afterAll(async () => {
    await control?.end();
    await stack?.close();
  }, 60_000);

  it('makes a link with a token, reads it without one, runs it as another account from its layer', async () => {
    const owner = await stack.signIn();
    const table = `g_${randomUUID().slice(0, 8)}`;
    const tail = { sql: `CREATE TABLE ${table} AS SELECT random() AS r;` };
    // `$&` and `` $` `` in the text must reach the page as written, not as String.replace patterns.
    const head = `SELECT r FROM ${table}; -- <b>"luck"</b> & more $& $\``;
    const ownerRun = await run(stack, owner, { tail, head });
    expect(ownerRun.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok' });

    expect((await api('POST', '/api/shares', undefined, { tail, head })).status).toBe(401);
    const created = await api('POST', '/api/shares', owner, { tail, head });
    expect(created.status).toBe(201);
    const { id, url } = created.json;
    expect(url).toBe(`/s/${id}`);

    const opened = await api('GET', `/api/shares/${id}`);
    expect(opened.status).toBe(200);
    expect(opened.json).toMatchObject({ tail, head });
    const ownerId = JSON.parse(Buffer.from(owner.split('.')[1] ?? '', 'base64url').toString('utf8')).sub as string;
    expect(opened.text).not.toContain(ownerId);

    const stranger = await stack.signIn();
    const shared = await run(stack, stranger, { tail: { share: id }, head });
    expect(shared.events.at(-1)).toMatchObject({ type: 'done', outcome: 'ok', stepsReplayed: 0 });
    expect(rowsOf(shared.events)).toEqual(rowsOf(ownerRun.events));

    // The page a pasted link previews: the head's first line in og:title, escaped.
    const page = await api('GET', url);
    expect(page.status, 'the SPA is built (npm run build)').toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toContain(
      `<meta property="og:title" content="SELECT r FROM ${table}; -- &lt;b&gt;&quot;luck&quot;&lt;/b&gt; &amp; more $&amp; $\`">`,
    );
    expect(page.text).not.toContain('<b>"luck"</b>');
    expect(page.text.match(/<\/head>/g)).toHaveLength(1);
    expect(page.text.match(/<title>/g)).toHaveLength(1);
    // An id no link can have is the editor's "not found", without a detour through sql-runner.
    expect((await api('GET', `/s/${'x'.repeat(80)}`)).status).toBe(404);

    expect((await api('GET', '/api/shares', owner)).json.shares).toMatchObject([{ id, title: expect.any(String) }]);
    expect((await api('GET', '/api/shares', stranger)).json.shares).toEqual([]);
    expect((await api('DELETE', `/api/shares/${id}`, stranger)).status).toBe(404);
    expect((await api('DELETE', `/api/shares/${id}`, owner)).status).toBe(204);
    const gone = await api('GET', `/api/shares/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.type).toMatch(/^application\/problem\+json/);
    expect(gone.json).toMatchObject({ code: 'SQL_RUNNER_SHARE_NOT_FOUND', instance: `/api/shares/${id}` });
    const refused = await run(stack, stranger, { tail: { share: id }, head });
    expect(refused.status).toBe(404);
    expect(refused.problem.code).toBe('SQL_RUNNER_SHARE_NOT_FOUND');
    expect((await api('GET', url)).status).toBe(404);

    // The gateway's audit events, delivered in the background.
    await expect
      .poll(
        async () =>
          (
            await control.query<{ action: string; account_id: string }>(
              'SELECT action, account_id FROM audit_log.audit_events WHERE target = $1 ORDER BY seq',
              [`share:${id}`],
            )
          ).rows,
        { timeout: 20_000, interval: 200 },
      )
      .toEqual([
        { action: 'share-created', account_id: ownerId },
        { action: 'share-revoked', account_id: ownerId },
      ]);
  }, 120_000);
});
