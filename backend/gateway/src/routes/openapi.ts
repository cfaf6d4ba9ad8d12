import swagger from '@fastify/swagger';
import { Problem, RUN_STREAM_CONTENT_TYPE } from '@taidon/contracts';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

/** Media type of every error answer (RFC 9457). */
const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Refusals any route may answer before its handler runs (validation, the
 * edge's limits, rate limits) or when a service behind it fails: the
 * document declares them on every route, so a client (and the fuzzing suite)
 * knows every status and media type it can meet.
 */
const COMMON_REFUSALS: Record<number, string> = {
  400: 'The request does not match its schema (`VALIDATION_FAILED`), its body is not JSON (`INVALID_JSON`) or has a `__proto__` key (`FORBIDDEN_JSON_KEY`), or it is not HTTP/1.1 (`BAD_REQUEST`).',
  408: 'The headers or the whole request did not arrive within the timeouts (`REQUEST_TIMEOUT`); the connection is closed.',
  413: 'The request body is larger than this route accepts.',
  415: 'The body has a media type this route does not take (JSON only).',
  431: 'The request headers are larger than 16 KiB (`HEADERS_TOO_LARGE`).',
  429: 'Too many requests (per account or per address), or a quota of the account; `Retry-After` says when to come back.',
  500: 'An unexpected failure; the body names the request id to report, never internal details.',
  502: 'A service behind the gateway answered with something that is not a valid answer.',
  503: 'A service behind the gateway is unavailable or overloaded, or the gateway holds as many connections as it allows (`TOO_MANY_CONNECTIONS`); `Retry-After` where known.',
  504: 'A service behind the gateway did not answer in time.',
};

/** The shared problem schema, once under components.schemas instead of inlined into every refusal. */
const PROBLEM_SCHEMA_ID = 'Problem';

/** A response of the route schema, as fastify takes it: a JSON schema, or one already split by media type. */
type ResponseSchema = Record<string, unknown>;

/** Declares a problem response as application/problem+json (fastify's default would say application/json). */
function asProblem(schema: ResponseSchema | undefined, description: string): ResponseSchema {
  if (schema && 'content' in schema) return schema;
  return {
    description: (schema?.description as string | undefined) ?? description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: schema ?? { $ref: `${PROBLEM_SCHEMA_ID}#` } } },
  };
}

/**
 * The route's schema as the document shows it: error answers as problem+json,
 * the common refusals added, 401 on every route that needs a token, and the run
 * stream's 200 as NDJSON. Validation and serialization keep the route's own schema.
 */
export function documentedSchema(schema: FastifySchema, isPublic: boolean): FastifySchema {
  const given = (schema.response ?? {}) as Record<string, ResponseSchema>;
  const response: Record<string, ResponseSchema> = {};
  for (const [status, value] of Object.entries(given)) {
    response[status] = Number(status) >= 400 ? asProblem(value, 'An error, as problem+json.') : value;
  }
  const refusals: Record<number, string> = isPublic
    ? COMMON_REFUSALS
    : { ...COMMON_REFUSALS, 401: 'No valid access token: sign in (or refresh the token) first.' };
  for (const [status, description] of Object.entries(refusals)) {
    response[status] ??= asProblem(undefined, description);
  }
  return { ...schema, response };
}

/** The run route answers a stream of events; its 200 is NDJSON, one event object per line. */
const RUN_STREAM_RESPONSE = {
  description: `A stream of run events, one JSON object per line (${RUN_STREAM_CONTENT_TYPE}); the last is \`done\` or \`cancelled\`.`,
  content: {
    [RUN_STREAM_CONTENT_TYPE]: {
      schema: {
        type: 'object',
        required: ['type'],
        properties: { type: { type: 'string', description: 'started, progress, resultset, rows, error, done, …' } },
      },
    },
  },
};

/** Registers the OpenAPI generator; call before the routes it documents. */
export function registerOpenApi(app: FastifyInstance): void {
  app.addSchema({ $id: PROBLEM_SCHEMA_ID, ...Problem });
  app.register(swagger, {
    // Shared schemas keep their $id as their name in the document.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}` },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Taidon API',
        version: '0.1.0',
        description: 'SQL learning sandboxes. Errors are application/problem+json with a stable `code`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    hideUntagged: true,
    transform: ({ schema, url, route }) => {
      if (!schema || (schema as { hide?: boolean }).hide) return { schema, url };
      const isPublic = (route as RouteOptions).config?.public === true;
      const documented = documentedSchema(schema, isPublic);
      if (url === '/api/runs' && route.method === 'POST') {
        (documented.response as Record<string, unknown>)[200] = RUN_STREAM_RESPONSE;
      }
      return { schema: documented, url };
    },
  });
}

/** `GET /api/openapi.json`: the document generated from the route schemas. */
export function registerOpenApiRoute(app: FastifyInstance): void {
  app.get('/api/openapi.json', { config: { public: true } }, async () => app.swagger());
}
