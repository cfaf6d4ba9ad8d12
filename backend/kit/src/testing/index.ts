export { createTestDatabase, type TestDatabase, testServerUrl } from './database.js';
export { captureLogger } from './logs.js';
