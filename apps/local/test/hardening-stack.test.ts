import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountWithToken, api } from './accounts-helpers.js';
import { run, startTestStack, type TestStack } from './stack.js';

process.env.SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES = String(2 * 1024 ** 3);
process.env.RUN_WARM_POOL_EMPTY = '0';

interface Page {
  events: { action: string; accountId?: string; target?: string; detail?: Record<string, unknown> }[];
  nextCursor: string | null;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('audit events through the whole platform', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => stack?.close(), 60_000);

  it('records sign-in, run and instance created/deleted for one account, readable and verifiable by an admin', async () => {
    const signIn = await api(stack, 'POST', '/api/auth/anonymous', undefined);
    expect(signIn.status).toBe(201);
    const token = signIn.body.accessToken as string;
    const learnerId = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).sub;
    const marker = 'select 4242 as audit_marker';
    const ran = await run(stack, token, { head: marker });
    expect(ran.status).toBe(200);
    const instances = await api(stack, 'GET', '/api/instances', token);
    const instanceId = instances.body[0]?.id;
    expect(typeof instanceId).toBe('string');
    expect((await api(stack, 'DELETE', `/api/instances/${instanceId}`, token)).status).toBeLessThan(300);

    const admin = await accountWithToken(stack, 'admin');
    const page = await until(async () => {
      const answer = await api(stack, 'GET', `/api/admin/audit?accountId=${learnerId}`, admin.token);
      expect(answer.status).toBe(200);
      const body = answer.body as Page;
      return body.events.length >= 4 ? body : undefined;
    });
    expect(page.events.map((e) => e.action).sort()).toEqual(['instance-created', 'instance-deleted', 'run', 'sign-in']);
    expect(page.events.filter((e) => e.action.startsWith('instance-')).map((e) => e.target)).toEqual([
      instanceId,
      instanceId,
    ]);
    expect(JSON.stringify(page)).not.toContain('audit_marker');

    const learner = await api(stack, 'GET', '/api/admin/audit', token);
    expect(learner.status).toBe(403);
    expect(learner.body.code).toBe('GATEWAY_FORBIDDEN');
    const verify = await api(stack, 'GET', '/api/admin/audit/verify', admin.token);
    expect(verify.body).toMatchObject({ ok: true, headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(verify.body.checked).toBeGreaterThanOrEqual(4);
  }, 90_000);
});
