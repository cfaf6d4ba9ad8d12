import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanSync } from 'libpg-query';

/** Debian's psql, the reference for how scripts are split. */
export const PSQL = '/usr/bin/psql';
export const hasPsql = existsSync(PSQL);

/** Runs `psql -f` on `sql` and returns the queries it sent (from its -L log) and its stdout. */
export async function runPsql(
  sql: string,
  url: string,
): Promise<{ queries: string[]; stdout: string; code: number; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'chain-psql-'));
  try {
    const file = join(dir, 'script.sql');
    const log = join(dir, 'psql.log');
    await writeFile(file, sql);
    const child = spawn(PSQL, ['-X', '-v', 'ON_ERROR_STOP=1', '--echo-queries', '-L', log, '-f', file, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    const text = existsSync(log) ? await readFile(log, 'utf8') : '';
    const queries = [...text.matchAll(/\*{9} QUERY \*{10}\n([\s\S]*?)\n\*{26}\n/g)].map((m) => m[1] ?? '');
    return { queries, stdout, code, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A query's tokens without comments, joined by one space, without a final ';': what both sides must agree on. */
export function tokens(sql: string): string {
  const list = scanSync(sql).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  if (list[list.length - 1]?.text === ';') list.pop();
  return list.map((t) => t.text).join(' ');
}
