export { buildApp, type IdpDeps } from './app.js';
export { type IdpConfig, idpConfigSpec, loadIdpConfig } from './config.js';
export { IDP_ERROR_CODES } from './errors.js';
export { IDP_MIGRATIONS_DIR, migrateIdp } from './migrate.js';
export {
  CLIENT_IP_HEADER,
  type OidcStartResponse,
  type SessionTokens,
} from './schemas.js';
export { type StartedIdp, startIdp } from './start.js';
