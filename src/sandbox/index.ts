/**
 * A Cloud2Edge-compatible environment in this process, on loopback: `Sandbox.start()`, then `sandbox.env()` for
 * `Cloud2Edge.fromEnv()`. What it emulates and how it differs from a real installation: docs/sandbox.md.
 */
export {
  DEFAULT_NORTHBOUND_USER,
  Sandbox,
  type SandboxEnv,
  type SandboxLimits,
  type SandboxOptions,
  type SandboxPorts,
  type SandboxRegistryAccess,
} from './sandbox.js';
export { SandboxRefusalError, SandboxStartError } from './errors.js';
export type { NorthboundUser } from './messaging.js';
// The shared core API (errors, options, retry, logging, TLS, ID rules, configuration, events): one curated list, src/core/index.ts.
export * from '../core/index.js';
