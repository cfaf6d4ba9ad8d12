import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeLiteralsIn, documentedNames, errorTableMismatches } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { snapshotCacheConfigSpec } from '../src/config.js';
import { SNAPSHOT_CACHE_ERROR_CODES } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('services/snapshot-cache/README.md', () => {
  it('has a row for every code of the catalogue, with its status, and none for a code the service lacks', () => {
    expect(errorTableMismatches(SNAPSHOT_CACHE_ERROR_CODES, readme)).toEqual([]);
  });

  it('documents every configuration variable', () => {
    const names = documentedNames(readme);
    expect(Object.keys(snapshotCacheConfigSpec).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('SNAPSHOT_CACHE_ERROR_CODES', () => {
  it('holds every SNAPSHOT_CACHE_ code the source names, also those thrown through kit classes', () => {
    const source = codeLiteralsIn(fileURLToPath(new URL('../src', import.meta.url)), ['SNAPSHOT_CACHE']);
    const unknown = [...source].filter(
      (code) => !(code in SNAPSHOT_CACHE_ERROR_CODES) && !(code in snapshotCacheConfigSpec),
    );
    expect(unknown).toEqual([]);
  });
});
