/**
 * @trellis/gateway: the API gateway. JWT and API-key authentication with cached
 * verification, per-client and per-route rate limits (in memory or Redis), prefix routing,
 * load balancing (round robin, least outstanding, power of two choices) with active health
 * checks, passive outlier ejection and per-instance circuit breakers, budgeted safe retries,
 * request ids, trace context and deadlines, CORS, metrics and hot reload.
 */
export { type Authenticated, Authenticator } from './authenticator.js';
export {
  type AuthConfig,
  type CorsConfig,
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigSchema,
  type RateLimitRule,
  type RouteConfig,
  type UpstreamConfig,
} from './config.js';
export { loadGatewayConfigFile, parseGatewayConfig, watchGatewayConfigFile } from './config-file.js';
export {
  BadGatewayError,
  InvalidPathError,
  isBadGatewayError,
  isInvalidPathError,
  isMethodNotAllowedError,
  isNoHealthyUpstreamError,
  isPayloadTooLargeError,
  isRouteNotFoundError,
  isUpstreamTimeoutError,
  MethodNotAllowedError,
  NoHealthyUpstreamError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UpstreamTimeoutError,
} from './errors.js';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { MemoryRateLimitStore, type RateLimitDecision, type RateLimitStore } from './rate-limit-store.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-rate-limit-store.js';
