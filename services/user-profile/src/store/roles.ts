import type { Role, RoleQuotas } from '@taidon/contracts';
import type pg from 'pg';

/** Default quotas of every role, from the role_quotas table (seeded by migration 001). */
export async function roleDefaults(pool: pg.Pool): Promise<RoleQuotas> {
  const { rows } = await pool.query<{
    role: Role;
    instances: number;
    storage_bytes: string;
    runs_per_minute: number;
    idle_ttl_seconds: number;
  }>('SELECT role, instances, storage_bytes, runs_per_minute, idle_ttl_seconds FROM role_quotas');
  return Object.fromEntries(
    rows.map((r) => [
      r.role,
      {
        instances: r.instances,
        storageBytes: Number(r.storage_bytes),
        runsPerMinute: r.runs_per_minute,
        idleTtlSeconds: r.idle_ttl_seconds,
      },
    ]),
  ) as RoleQuotas;
}
