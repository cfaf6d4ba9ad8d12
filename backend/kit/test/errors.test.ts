import { describe, expect, it } from 'vitest';
import { catalogueErrorClass, DomainError, type ErrorCatalogue } from '../src/errors.js';
import { KIT_ERROR_CATALOGUE } from '../src/problem.js';
import { errorTableMismatches } from '../src/testing/readme.js';

const CATALOGUE = {
  ...KIT_ERROR_CATALOGUE,
  DEMO_GONE: { status: 410, meaning: 'The thing is gone.' },
} as const satisfies ErrorCatalogue;

class DemoError extends catalogueErrorClass(CATALOGUE) {}

describe('catalogueErrorClass', () => {
  it('answers with the status the catalogue gives the code, as a DomainError', () => {
    const error = new DemoError('DEMO_GONE', 'Gone.', { details: { id: 7 } });
    expect(error).toBeInstanceOf(DomainError);
    expect([error.code, error.statusCode, error.details]).toEqual(['DEMO_GONE', 410, { id: 7 }]);
    expect(new DemoError('UNAVAILABLE', 'Down.').statusCode).toBe(503);
  });

  it('refuses a code outside the catalogue, at compile time and at run time', () => {
    // @ts-expect-error DEMO_UNKNOWN is not in the catalogue: the type check is the first guard.
    expect(() => new DemoError('DEMO_UNKNOWN', 'No.')).toThrow('DEMO_UNKNOWN is not in the error catalogue');
  });
});

describe('errorTableMismatches', () => {
  it('names a missing row, a wrong status and a stale row', () => {
    const readme = [
      '## Errors',
      '',
      '| code | status | meaning |',
      '|---|---|---|',
      '| `DEMO_GONE` | 404 | wrong status |',
      '| `DEMO_OLD` | 400 | no longer answered |',
      '',
      '## Tests',
    ].join('\n');
    const mismatches = errorTableMismatches({ DEMO_GONE: CATALOGUE.DEMO_GONE, INTERNAL: CATALOGUE.INTERNAL }, readme);
    expect(mismatches).toEqual([
      'DEMO_GONE is 404 in the table, 410 in the catalogue',
      'INTERNAL is not in the errors table',
      'DEMO_OLD is in the errors table but not in the catalogue',
    ]);
  });
});
