import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authCall, refreshCookieOf } from './auth-helpers.js';
import { rowsOf, run, startTestStack, type TestStack } from './stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(() => stack?.close());

const instances = async (token: string) =>
  (await fetch(`${stack.url}/api/instances`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<
    { id: string; sessionId: string | null }[]
  >;

describe('anonymous upgrade on the whole platform', () => {
  it('keeps the account id, so its instance and session stay with the registered account', async () => {
    const anonymous = await authCall(stack.url, 'POST', '/api/auth/anonymous');
    const token = anonymous.body.accessToken as string;
    const id = decodeJwt(token).sub;
    const first = await run(stack, token, { head: 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);' });
    const started = first.events.find((e) => e.type === 'started');
    expect(started?.sessionId).toBeTruthy();
    const before = await instances(token);
    expect(before).toHaveLength(1);

    const body = { email: 'keeper@example.test', password: 'keeper password 1' };
    const upgraded = await authCall(stack.url, 'POST', '/api/auth/upgrade', { body, token });
    expect(upgraded.status).toBe(200);
    const learnerToken = upgraded.body.accessToken as string;
    expect(decodeJwt(learnerToken)).toMatchObject({ sub: id, role: 'learner' });
    refreshCookieOf(upgraded);

    expect((await instances(learnerToken)).map((i) => i.id)).toEqual(before.map((i) => i.id));
    const again = await run(stack, learnerToken, { sessionId: started?.sessionId, head: 'SELECT n FROM kept;' });
    expect(rowsOf(again.events)).toEqual([['42']]);
    const signedIn = await authCall(stack.url, 'POST', '/api/auth/login', { body });
    expect(decodeJwt(signedIn.body.accessToken).sub).toBe(id);
  });
});
