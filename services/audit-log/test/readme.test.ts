import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codeLiteralsIn, documentedNames, errorTableMismatches } from '@taidon/kit/testing';
import { describe, expect, it } from 'vitest';
import { auditLogConfigSpec } from '../src/config.js';
import { AUDIT_LOG_ERROR_CODES } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('services/audit-log/README.md', () => {
  it('has a row for every code of the catalogue, with its status, and none for a code the service lacks', () => {
    expect(errorTableMismatches(AUDIT_LOG_ERROR_CODES, readme)).toEqual([]);
  });

  it('documents every configuration variable', () => {
    const names = documentedNames(readme);
    expect(Object.keys(auditLogConfigSpec).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe('AUDIT_LOG_ERROR_CODES', () => {
  it('holds every AUDIT_LOG_ code the source names, also those thrown through kit classes', () => {
    const source = codeLiteralsIn(fileURLToPath(new URL('../src', import.meta.url)), ['AUDIT_LOG']);
    const unknown = [...source].filter((code) => !(code in AUDIT_LOG_ERROR_CODES) && !(code in auditLogConfigSpec));
    expect(unknown).toEqual([]);
  });
});
