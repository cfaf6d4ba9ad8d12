import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeLiteralsIn, documentedNames, errorTableMismatches } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { envManagerConfigSpec } from '../src/config.js';
import { ENV_MANAGER_ERROR_CODES } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('services/env-manager/README.md', () => {
  it('has a row for every code of the catalogue, with its status, and none for a code the service lacks', () => {
    expect(errorTableMismatches(ENV_MANAGER_ERROR_CODES, readme)).toEqual([]);
  });

  it('documents every configuration variable', () => {
    const names = documentedNames(readme);
    expect(Object.keys(envManagerConfigSpec).filter((name) => !names.has(name))).toEqual([]);
    expect(existsSync(fileURLToPath(new URL('../migrations/001_instances.sql', import.meta.url)))).toBe(true);
  });
});

describe('ENV_MANAGER_ERROR_CODES', () => {
  it('holds every ENV_MANAGER_ code the source names, also those thrown through kit classes', () => {
    const source = codeLiteralsIn(fileURLToPath(new URL('../src', import.meta.url)), ['ENV_MANAGER']);
    const unknown = [...source].filter((code) => !(code in ENV_MANAGER_ERROR_CODES) && !(code in envManagerConfigSpec));
    expect(unknown).toEqual([]);
  });
});
