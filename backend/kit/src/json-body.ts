import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { DomainError } from './errors.js';

/** The refusals of prototype poisoning fastify's own parser makes, kept: no route takes such keys. */
const POISON_CHECKS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Reads `application/json` bodies as fastify's own parser does, but tells
 * apart what it calls "not valid JSON" in every case: a body that is no JSON
 * at all (`INVALID_JSON`) and well-formed JSON refused for a `__proto__` or
 * `constructor.prototype` key (`FORBIDDEN_JSON_KEY`). secure-json-parse
 * refuses both with the same SyntaxError, so the two are told apart by which
 * parser refuses, never by message text: a body plain JSON.parse reads was
 * refused for its keys. Only a refused body is parsed twice.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(new DomainError('INVALID_JSON', 'The body is empty but its content type says JSON.'), undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, null, POISON_CHECKS));
    } catch {
      done(refusalOf(text), undefined);
    }
  });
}

function refusalOf(text: string): DomainError {
  try {
    JSON.parse(text);
  } catch {
    return new DomainError('INVALID_JSON', 'The body is not valid JSON.');
  }
  return new DomainError(
    'FORBIDDEN_JSON_KEY',
    'The body has a `__proto__` key, or a `constructor` key holding `prototype`, which no route takes.',
  );
}
