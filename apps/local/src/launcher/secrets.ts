import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Secrets the all-in-one platform generates once and keeps in its data directory. */
export interface LocalSecrets {
  serviceToken: string;
  /** Password of the superuser inside every sandbox instance. */
  sandboxAdminPassword: string;
  /** Password of each service's control-plane role, by service name. */
  rolePasswords: Record<string, string>;
  /** vcs-sync's AES-256-GCM key for remote tokens (32 bytes, base64): lost, the kept tokens cannot be opened. */
  vcsSyncTokenKey: string;
}

const newSecret = (): string => randomBytes(32).toString('base64url');

/**
 * Reads `secrets.json` of the data directory (mode 0600), creating it or
 * adding missing entries, so a second start reuses every credential.
 */
export async function loadOrCreateSecrets(dataDir: string, services: readonly string[]): Promise<LocalSecrets> {
  const file = join(dataDir, 'secrets.json');
  let secrets: LocalSecrets;
  try {
    secrets = JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    secrets = {
      serviceToken: newSecret(),
      sandboxAdminPassword: newSecret(),
      rolePasswords: {},
      vcsSyncTokenKey: randomBytes(32).toString('base64'),
    };
  }
  let changed = false;
  if (!secrets.vcsSyncTokenKey) {
    secrets.vcsSyncTokenKey = randomBytes(32).toString('base64');
    changed = true;
  }
  if (!secrets.sandboxAdminPassword) {
    secrets.sandboxAdminPassword = newSecret();
    changed = true;
  }
  for (const service of services) {
    if (!secrets.rolePasswords[service]) {
      secrets.rolePasswords[service] = newSecret();
      changed = true;
    }
  }
  if (changed) await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
