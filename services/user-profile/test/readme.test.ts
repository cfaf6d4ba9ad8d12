import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeLiteralsIn, documentedNames, errorTableMismatches } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { userProfileConfigSpec } from '../src/config.js';
import { USER_PROFILE_ERROR_CODES } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('services/user-profile/README.md', () => {
  it('has a row for every code of the catalogue, with its status, and none for a code the service lacks', () => {
    expect(errorTableMismatches(USER_PROFILE_ERROR_CODES, readme)).toEqual([]);
  });

  it('documents every configuration variable', () => {
    const names = documentedNames(readme);
    expect(Object.keys(userProfileConfigSpec).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('USER_PROFILE_ERROR_CODES', () => {
  it('holds every USER_PROFILE_ code the source names, also those thrown through kit classes', () => {
    const source = codeLiteralsIn(fileURLToPath(new URL('../src', import.meta.url)), ['USER_PROFILE']);
    const unknown = [...source].filter(
      (code) => !(code in USER_PROFILE_ERROR_CODES) && !(code in userProfileConfigSpec),
    );
    expect(unknown).toEqual([]);
  });
});
