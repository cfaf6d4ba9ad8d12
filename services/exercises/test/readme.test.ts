import { readFileSync } from 'node:fs';
import { errorTableMismatches } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { EXERCISES_ERROR_CODES } from '../src/errors.js';

describe('exercises README', () => {
  it('documents every error code with its status, and no code the domain lacks', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(errorTableMismatches(EXERCISES_ERROR_CODES, readme)).toEqual([]);
  });
});
