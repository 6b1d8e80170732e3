/**
 * @trellis/service: the service runtime. Fastify with zod-validated routes and generated
 * OpenAPI, one error shape, health probes, graceful shutdown, idempotency keys, typed
 * resilient clients, internal identity tokens, logs with trace ids, OpenTelemetry traces and
 * Prometheus metrics.
 */
export {
  type CallOptions,
  type ClientOptions,
  createClient,
  type RawInput,
  ServiceClient,
  type TypedClient,
} from './client.js';
export {
  type LoadConfigOptions,
  loadConfig,
  loadConfigOrExit,
  type ServiceConfig,
  serviceConfigSchema,
} from './config.js';
export {
  currentRequestContext,
  type Identity,
  type RequestContext,
  runWithRequestContext,
} from './context.js';
export {
  type EndpointAuth,
  type EndpointDefinition,
  type EndpointInput,
  type EndpointRequest,
  type EndpointResponse,
  type EndpointResult,
  endpoint,
  type HttpMethod,
  IDEMPOTENT_METHODS,
  operationIdOf,
} from './endpoint.js';
export { type ErrorResponse, retryAfterSeconds, toErrorResponse } from './error-response.js';
export {
  ConfigError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  isConfigError,
  isIdempotencyInProgressError,
  isIdempotencyKeyReusedError,
  isRemoteError,
  isResponseValidationError,
  isServiceUnavailableError,
  isUpstreamError,
  RemoteError,
  ResponseValidationError,
  ServiceUnavailableError,
  UpstreamError,
} from './errors.js';
export { ExpiringCache } from './expiring-cache.js';
export { Health, type ReadinessCheck, type ReadinessReport } from './health.js';
export {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  type IdempotencyOptions,
} from './idempotency.js';
export {
  type AcquireResult,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type StoredResponse,
} from './idempotency-store.js';
export {
  findInputProblem,
  type InputCheckOptions,
  type InputProblem,
  textProblem,
} from './input-checks.js';
export { type InternalAuthMode, type InternalAuthOptions, internalAuthFromConfig } from './internal-auth.js';
export {
  IDENTITY_HEADERS,
  IDENTITY_TOKEN_HEADER,
  type InternalTokenAlgorithm,
  InternalTokenSigner,
  InternalTokenVerifier,
  type InternalTokenVerifierOptions,
} from './internal-token.js';
export { Lifecycle, type ShutdownReport, type ShutdownStep } from './lifecycle.js';
export { type CreateLoggerOptions, createLogger, traceFields } from './logger.js';
export {
  type BreakerLike,
  type Hook,
  type HookSpec,
  type Labels,
  ServiceMetrics,
  type ServiceMetricsOptions,
} from './metrics.js';
export {
  type BusMetricsObserver,
  busMetricsObserver,
  type SagaMetricsObserver,
  sagaMetricsObserver,
} from './observer-metrics.js';
export { buildOpenApi, errorBodySchema, type OpenApiInfo, openApiPath } from './openapi.js';
export {
  CORRELATION_ID_HEADER,
  DEADLINE_HEADER,
  newRequestId,
  REQUEST_ID_HEADER,
  validId,
} from './propagation.js';
export { type HandlerInput, type Route, route } from './route.js';
export { createService, type Service, type ServiceOptions } from './service.js';
export { type RecordedSpan, SpanRecorder, type TraceSummary, toRecordedSpan } from './span-recorder.js';
export { SqlIdempotencyStore } from './sql-idempotency-store.js';
export {
  type Carrier,
  createTracing,
  currentTraceparent,
  extractContext,
  injectContext,
  markError,
  Tracing,
  type TracingOptions,
  withRemoteContext,
} from './tracing.js';
