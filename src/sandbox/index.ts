/**
 * A local TikTok for tests and demos: Login Kit, the Data Portability endpoints and webhooks, on
 * loopback and a simulated clock, with injectable faults. See {@link startSandbox}.
 */
export { type Endpoint, type EndpointFilter, Faults, parseFaultFlags } from './faults.js';
export type { ConsentDecision, SandboxOptions } from './options.js';
export { type Sandbox, startSandbox } from './server.js';
export type { SandboxAccount, SandboxAccountOptions } from './state.js';
export type { WebhookDelivery } from './webhooks.js';
