import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@taidon/kit';
import { EXAMPLE_PACKS_DIR, loadExamplePacks, packOwner } from './launcher/example-packs.js';

// The chart's example-packs Job (ADR 0050): in a cluster, what `npm start` does once the platform is up: each
// pack of services/exercises/packs imported once as an admin's and every exercise still a draft published.
// It runs after every install and upgrade; a pack already there is left as it is. A fresh cluster has no admin
// until the first one signs in (user-profile's USER_PROFILE_ADMIN_EMAILS), so it waits for one a while, then
// ends saying so (the next upgrade loads them).
// Environment: EXERCISES_URL, USER_PROFILE_URL, SERVICE_TOKEN; TAIDON_ADMIN_EMAIL (whose account owns the
// packs when it is an admin; else the first admin); EXAMPLE_PACKS_ADMIN_WAIT_SECONDS (default 0: look once).

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const log = createLogger({ service: 'example-packs', level: process.env.LOG_LEVEL ?? 'info' });
const serviceToken = required('SERVICE_TOKEN');
// Publishing one exercise measures its mutants on throwaway clones: up to the exercises service's budgets.
const endpoint = (name: string, baseUrl: string) => ({ name, baseUrl, serviceToken, timeoutMs: 300_000 });
const services = {
  exercises: endpoint('exercises', required('EXERCISES_URL')),
  userProfile: endpoint('user-profile', required('USER_PROFILE_URL')),
};
const adminEmail = process.env.TAIDON_ADMIN_EMAIL || undefined;
const waitSeconds = Number(process.env.EXAMPLE_PACKS_ADMIN_WAIT_SECONDS ?? '0');
if (!Number.isInteger(waitSeconds) || waitSeconds < 0) {
  process.stderr.write('EXAMPLE_PACKS_ADMIN_WAIT_SECONDS must be a whole number of seconds\n');
  process.exit(2);
}

const deadline = Date.now() + waitSeconds * 1000;
while (!(await packOwner(services.userProfile, adminEmail)) && Date.now() < deadline) {
  log.info({ retryInSeconds: 30 }, 'waiting for the platform to have an admin');
  await sleep(Math.min(30_000, Math.max(0, deadline - Date.now())));
}
const loaded = await loadExamplePacks(services, { packsDir: fileURLToPath(EXAMPLE_PACKS_DIR), adminEmail }, log);
log.info({ packs: loaded.map((p) => ({ slug: p.slug, outcome: p.outcome })) }, 'example packs done');
