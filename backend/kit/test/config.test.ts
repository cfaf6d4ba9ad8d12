import { describe, expect, it } from 'vitest';
import { ConfigError, envEnum, envInt, envString, envUrl, loadConfig } from '../src/config.js';

const spec = {
  PORT: envInt('Port.', { default: 8080, min: 1, max: 65535 }),
  MODE: envEnum('Mode.', ['a', 'b'], { default: 'a' }),
  UPSTREAM: envUrl('Upstream.'),
  SECRET: envString('Secret.', { secret: true }),
};

describe('loadConfig', () => {
  it('reads and freezes valid variables, applying defaults', () => {
    const config = loadConfig(spec, { UPSTREAM: 'http://127.0.0.1:1', SECRET: 's' });
    expect(config).toEqual({ PORT: 8080, MODE: 'a', UPSTREAM: 'http://127.0.0.1:1', SECRET: 's' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad variable together and never prints a secret', () => {
    let caught: unknown;
    try {
      loadConfig(spec, { PORT: '70000', MODE: 'c', UPSTREAM: 'not a url', SECRET: '' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT: must be between 1 and 65535 \(got "70000"\)/);
    expect(problems.join('\n')).toMatch(/MODE: must be one of a, b/);
    expect(problems.join('\n')).toMatch(/UPSTREAM: must be an absolute URL/);
    expect(problems.join('\n')).toMatch(/SECRET: is required$/m);
  });

  it('does not echo the value of a secret variable that is invalid', () => {
    const secretUrl = { DB: envUrl('Db.', { secret: true, protocols: ['postgres:'] }) };
    expect(() => loadConfig(secretUrl, { DB: 'http://user:hunter2@x' })).toThrow(/DB: must use postgres:$/m);
    try {
      loadConfig(secretUrl, { DB: 'http://user:hunter2@x' });
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
