export { createTestDatabase, type TestDatabase, testServerUrl } from './database.js';
export { captureLogger } from './logs.js';
export { openRaw, parseAnswer, type RawAnswer, type RawConnection, rawExchange } from './raw-http.js';
export { codeLiteralsIn, documentedNames, errorTable, errorTableMismatches } from './readme.js';
