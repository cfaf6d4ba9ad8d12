export { buildApp, type GatewayDeps } from './app.js';
export { type GatewayConfig, gatewayConfigSpec, loadGatewayConfig } from './config.js';
export { GATEWAY_ERROR_CODES } from './errors.js';
export { type StartedGateway, startGateway } from './start.js';
