export { buildApp, type GatewayDeps } from './app.js';
export { gatewayConfigSpec, loadGatewayConfig, type GatewayConfig } from './config.js';
export { GATEWAY_ERROR_CODES } from './errors.js';
