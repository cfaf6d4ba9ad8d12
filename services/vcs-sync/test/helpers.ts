import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuditLogConfig, type StartedAuditLog, startAuditLog } from '@taidon/audit-log';
import { ACCOUNT_HEADER, createPool, provisionServiceDatabase, ROLE_HEADER, SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadUserProfileConfig, type StartedUserProfile, startUserProfile } from '@taidon/user-profile';
import type pg from 'pg';
import { loadVcsSyncConfig } from '../src/config.js';
import { type StartedVcsSync, startVcsSync } from '../src/start.js';

/** What a call through vcs-sync answered. */
export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: any;
  text: string;
}

/** One account as the gateway would pass it. */
export interface TestAccount {
  id: string;
  role: string;
}

/**
 * vcs-sync started by its own start function (pool, migrations, audit sink,
 * user-profile client) beside real user-profile and audit-log, each on its
 * own role and schema of one fresh database and listening on loopback, so
 * quota calls and audit events cross real HTTP.
 */
export interface VcsSyncFixture {
  vcs: StartedVcsSync;
  profile: StartedUserProfile;
  auditLog: StartedAuditLog;
  db: TestDatabase;
  /** Logged in as vcs-sync's own role. */
  pool: pg.Pool;
  projectsDir: string;
  token: string;
  /** A new account in user-profile (anonymous or learner). */
  account(role?: 'anonymous' | 'learner'): Promise<TestAccount>;
  /** Calls user-profile as a service. */
  profileCall(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown): Promise<Answer>;
  /** Calls vcs-sync as the gateway does for `account`. */
  call(
    account: TestAccount | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    options?: { json?: unknown; text?: string; headers?: Record<string, string> },
  ): Promise<Answer>;
  /** Runs git in a project directory (as a person at a terminal would), answering its stdout. */
  git(projectId: string, ...args: string[]): string;
  /** Every log line vcs-sync wrote (pino JSON). */
  logs(): string[];
  /** Audit events of an action in audit-log's table, after the sink has delivered what it holds. */
  auditEvents(action: string): Promise<{ account_id: string; target: string; detail: any }[]>;
  close(): Promise<void>;
}

export async function startFixture(env: Record<string, string> = {}): Promise<VcsSyncFixture> {
  const db = await createTestDatabase('vcs');
  const dataDir = await mkdtemp(join(tmpdir(), 'taidon-vcs-'));
  await chmod(dataDir, 0o700);
  const token = `token-${db.name}`;
  const provision = (service: string) => provisionServiceDatabase(db.url, service, `pw-${service}-${db.name}`);
  const quiet = (service: string) => captureLogger(service).logger;
  const auditLog = await startAuditLog(
    loadAuditLogConfig({ AUDIT_LOG_DATABASE_URL: (await provision('audit-log')).url, SERVICE_TOKEN: token }),
    { logger: quiet('audit-log') },
  );
  const auditUrl = await auditLog.app.listen({ host: '127.0.0.1', port: 0 });
  const profile = await startUserProfile(
    loadUserProfileConfig({ USER_PROFILE_DATABASE_URL: (await provision('user-profile')).url, SERVICE_TOKEN: token }),
    { logger: quiet('user-profile') },
  );
  const profileUrl = await profile.app.listen({ host: '127.0.0.1', port: 0 });
  const own = await provision('vcs-sync');
  const projectsDir = join(dataDir, 'projects');
  const vcsLog = captureLogger('vcs-sync');
  const vcs = await startVcsSync(
    loadVcsSyncConfig({
      VCS_SYNC_DATABASE_URL: own.url,
      VCS_SYNC_DATA_DIR: projectsDir,
      USER_PROFILE_URL: profileUrl,
      SERVICE_TOKEN: token,
      AUDIT_LOG_URL: auditUrl,
      AUDIT_OUTBOX_FILE: join(dataDir, 'outbox', 'vcs-sync.jsonl'),
      ...env,
    }),
    { logger: vcsLog.logger },
  );
  await vcs.app.ready();
  const pool = createPool(own.url, { applicationName: 'vcs-sync-test' });
  const answer = (response: { statusCode: number; headers: Answer['headers']; body: string }): Answer => {
    let body: unknown;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body, text: response.body };
  };
  const profileCall: VcsSyncFixture['profileCall'] = async (method, url, payload) =>
    answer(
      await profile.app.inject({
        method,
        url,
        headers: { [SERVICE_TOKEN_HEADER]: token },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      }),
    );
  return {
    vcs,
    profile,
    auditLog,
    db,
    pool,
    projectsDir,
    token,
    async account(role = 'learner') {
      const created = await profileCall('POST', '/accounts', { role });
      if (created.status !== 201) throw new Error(`account not created: ${created.text}`);
      return { id: created.body.id as string, role };
    },
    profileCall,
    logs: vcsLog.lines,
    async call(account, method, url, options = {}) {
      const headers: Record<string, string> = { [SERVICE_TOKEN_HEADER]: token, ...options.headers };
      if (account) {
        headers[ACCOUNT_HEADER] = account.id;
        headers[ROLE_HEADER] = account.role;
      }
      let payload: string | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(options.json);
      } else if (options.text !== undefined) {
        headers['content-type'] = 'text/plain; charset=utf-8';
        payload = options.text;
      }
      return answer(await vcs.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) }));
    },
    git(projectId, ...args) {
      return execFileSync('git', ['-C', join(projectsDir, projectId), ...args], {
        encoding: 'utf8',
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      });
    },
    async auditEvents(action) {
      // The sink lingers before it sends; waiting for the rows is the effect that matters.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await auditLog.app
          .inject({
            method: 'GET',
            url: `/events?action=${action}`,
            headers: { [SERVICE_TOKEN_HEADER]: token },
          })
          .then((r) => ({ rows: (JSON.parse(r.body).events ?? []) as any[] }));
        if (rows.length > 0 || Date.now() > deadline) {
          return rows.map((e) => ({ account_id: e.accountId, target: e.target, detail: e.detail }));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await vcs.close();
      await pool.end();
      await profile.close();
      await auditLog.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a project for `account` and answers it (fails the test on any other answer). */
export async function newProject(
  fixture: VcsSyncFixture,
  account: TestAccount,
  name = 'p',
  template?: string,
): Promise<{ id: string; name: string }> {
  const created = await fixture.call(account, 'POST', '/projects', {
    json: { name, ...(template ? { template } : {}) },
  });
  if (created.status !== 201) throw new Error(`project not created: ${created.status} ${created.text}`);
  return created.body;
}
