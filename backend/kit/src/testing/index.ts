export { createTestDatabase, testServerUrl, type TestDatabase } from './database.js';
export { captureLogger } from './logs.js';
