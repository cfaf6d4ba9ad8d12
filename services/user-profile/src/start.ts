import { type AuditSink, createAuditSink, createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { UserProfileConfig } from './config.js';
import { migrateUserProfile } from './migrate.js';
import { promoteToAdmin } from './store/accounts.js';

/** user-profile built and ready to listen; close() stops the app, then its audit sink and its pool. */
export interface StartedUserProfile {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The emails of USER_PROFILE_ADMIN_EMAILS, trimmed, empty entries dropped. */
export function adminEmails(config: Pick<UserProfileConfig, 'USER_PROFILE_ADMIN_EMAILS'>): string[] {
  return (config.USER_PROFILE_ADMIN_EMAILS ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
}

/**
 * The platform's first admin: while no account is admin, registered accounts listed in
 * USER_PROFILE_ADMIN_EMAILS become admin at start, each promotion logged and audited ('role-changed', no actor:
 * the operator's configuration did it). Only accounts whose email an identity provider verified (a password
 * sign-up proves nothing: anyone may sign up first with a listed address), that exist now, and never once an
 * admin exists: a list left in the configuration gives nothing to a stranger who signs up later.
 */
async function promoteListedAdmins(
  pool: pg.Pool,
  emails: string[],
  audit: AuditSink | undefined,
  logger: Logger,
): Promise<void> {
  if (emails.length === 0) return;
  const promoted = await promoteToAdmin(pool, emails);
  for (const account of promoted) {
    logger.warn(
      { accountId: account.id, previousRole: account.previousRole },
      'made admin by USER_PROFILE_ADMIN_EMAILS',
    );
    audit?.record({
      action: 'role-changed',
      accountId: account.id,
      target: 'USER_PROFILE_ADMIN_EMAILS',
      detail: { role: 'admin', previousRole: account.previousRole, by: 'configuration' },
    });
  }
  const found = new Set(promoted.map((a) => a.email.toLowerCase()));
  const unmatched = emails.filter((e) => !found.has(e.toLowerCase())).length;
  if (unmatched > 0) {
    logger.info(
      { unmatched },
      'USER_PROFILE_ADMIN_EMAILS: some emails were not promoted (no such registered account, its email not verified by an identity provider, or an admin exists)',
    );
  }
}

/**
 * Builds the whole of user-profile from its validated config (pool, migrations, audit sink, the listed admins,
 * app): the one way it is started.
 */
export async function startUserProfile(
  config: UserProfileConfig,
  options: { logger: Logger },
): Promise<StartedUserProfile> {
  const pool = createPool(config.USER_PROFILE_DATABASE_URL, { applicationName: 'taidon-user-profile' });
  let audit: AuditSink | undefined;
  try {
    await migrateUserProfile(pool);
    audit = config.AUDIT_LOG_URL
      ? await createAuditSink({
          url: config.AUDIT_LOG_URL,
          serviceToken: config.SERVICE_TOKEN,
          outboxFile: config.AUDIT_OUTBOX_FILE,
          logger: options.logger,
        })
      : undefined;
    await promoteListedAdmins(pool, adminEmails(config), audit, options.logger);
  } catch (error) {
    await audit?.close().catch(() => {});
    await pool.end().catch(() => {});
    throw error;
  }
  const app = buildApp({ config, pool, logger: options.logger });
  return {
    app,
    close: async () => {
      await app.close();
      await audit?.close();
      await pool.end();
    },
  };
}
