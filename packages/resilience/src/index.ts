/**
 * @trellis/resilience: circuit breaker (the seed's API, grown up), retry with back-off and
 * budgets, timeouts that abort, deadlines across hops, bulkhead, token-bucket rate limiting,
 * fallback and composition. No runtime dependencies beyond @trellis/core.
 */
export { Backoff, type BackoffOptions, type Jitter } from './backoff.js';
export { Bulkhead, type BulkheadOptions, bulkhead } from './bulkhead.js';
export { CircuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerMetrics, StateChangeEvent, StateChangeReason } from './circuit-breaker-events.js';
export type { CircuitBreakerOptions, SlidingWindowOptions } from './circuit-breaker-options.js';
export type { BreakerSnapshot } from './circuit-breaker-snapshot.js';
export { CircuitState } from './circuit-state.js';
export {
  DEADLINE_HEADER,
  Deadline,
  type DeadlineParseOptions,
  type HeaderSource,
} from './deadline.js';
export {
  BulkheadRejectedError,
  CircuitBreakerOpenError,
  DeadlineExceededError,
  isBulkheadRejectedError,
  isCircuitBreakerOpenError,
  isDeadlineExceededError,
  isRateLimitedError,
  isTimeoutError,
  RateLimitedError,
  TimeoutError,
} from './errors.js';
export { type FallbackOptions, FallbackPolicy, fallback } from './fallback.js';
export {
  KeyedCircuitBreaker,
  type KeyedCircuitBreakerOptions,
  type KeyedStateChangeEvent,
} from './keyed-circuit-breaker.js';
export {
  KeyedRateLimiter,
  type KeyedRateLimiterOptions,
  type RateLimitDecision,
} from './keyed-rate-limiter.js';
export type { Policy, Work } from './policy.js';
export {
  type GiveUpEvent,
  isTransientError,
  type RetryEvent,
  type RetryOptions,
  RetryPolicy,
  retry,
} from './retry.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export { type TimeoutOptions, TimeoutPolicy, type TimeoutStrategy, timeout } from './timeout.js';
export { type FallbackResult, type PipelineParts, pipeline, WrappedPolicy, wrap } from './wrap.js';
