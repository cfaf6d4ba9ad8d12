export { createTestDatabase, type TestDatabase, testServerUrl } from './database.js';
export { captureLogger } from './logs.js';
export { openRaw, parseAnswer, type RawAnswer, type RawConnection, rawExchange } from './raw-http.js';
export {
  codeLiteralsIn,
  describeServiceReadme,
  documentedNames,
  errorTable,
  errorTableMismatches,
  type ServiceReadme,
} from './readme.js';
