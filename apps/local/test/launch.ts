import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@taidon/kit';

/** `npm start`'s entry point, built. */
export const ENTRY = fileURLToPath(new URL('../dist/all-in-one.js', import.meta.url));

/** The platform started as the README says, as a real process. */
export interface LaunchedPlatform {
  child: ChildProcess;
  /** Its URL once it says it is up; rejects if it exits first or does not come up in time. */
  up: Promise<string>;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `node apps/local/dist/all-in-one.js` on `dataDir` (a free port unless
 * `env.PORT` says one), its output collected, without waiting for it to be up.
 */
export async function launchPlatform(
  dataDir: string,
  env: Record<string, string> = {},
  upWithinMs = 60_000,
): Promise<LaunchedPlatform> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` (npm test does) first`);
  const child = spawn(process.execPath, [ENTRY], {
    env: {
      ...process.env,
      PORT: String(await freePort()),
      TAIDON_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: String(2 * 1024 ** 3),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within ${upWithinMs} ms:\n${output}`)), upWithinMs);
    child.stdout?.on('data', () => {
      const match = /Taidon is up at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} during start:\n${output}`));
    });
  });
  up.catch(() => {});
  return { child, up, output: () => output, exited };
}
