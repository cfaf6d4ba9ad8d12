import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { userProfileConfigSpec } from '../src/config.js';
import { USER_PROFILE_ERROR_CODES } from '../src/errors.js';

/** Names in the first column of the README's tables, between backticks. */
function documented(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const first = /^\|\s*([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (match[1]) names.add(match[1]);
  }
  return names;
}

describe('services/user-profile/README.md', () => {
  it('documents every error code and environment variable, and no stale code', async () => {
    const text = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const missing = [...Object.keys(USER_PROFILE_ERROR_CODES), ...Object.keys(userProfileConfigSpec)].filter(
      (name) => !documented(text).has(name),
    );
    expect(missing).toEqual([]);
    const errors = text.split('## Errors')[1]?.split('\n## ')[0] ?? '';
    expect([...documented(errors)].filter((code) => !(code in USER_PROFILE_ERROR_CODES))).toEqual([]);
  });
});
