/**
 * The gateway's own refusals. Each extends `TrellisError` (stable `code`, HTTP `status`) with
 * an `isXError` guard; clients get them as `{ error: { code, message, details } }`.
 */
import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/** No route matches the path. HTTP 404. */
export class RouteNotFoundError extends TrellisError {
  constructor(path: string, options: TrellisErrorOptions = {}) {
    super('ROUTE_NOT_FOUND', `No route for ${path}`, 404, options);
  }
}
/** Guard for {@link RouteNotFoundError}. */
export const isRouteNotFoundError = errorGuard<RouteNotFoundError>('ROUTE_NOT_FOUND');

/** A route matches the path but not the method. HTTP 405 (with `Allow`). */
export class MethodNotAllowedError extends TrellisError {
  readonly allow: readonly string[];
  constructor(method: string, allow: readonly string[], options: TrellisErrorOptions = {}) {
    super('METHOD_NOT_ALLOWED', `Method ${method} not allowed`, 405, { ...options, details: { allow } });
    this.allow = allow;
  }
}
/** Guard for {@link MethodNotAllowedError}. */
export const isMethodNotAllowedError = errorGuard<MethodNotAllowedError>('METHOD_NOT_ALLOWED');

/**
 * The request path is not acceptable: dot segments (`/api/../internal`), encoded dots,
 * slashes or backslashes, NUL, or a backslash. HTTP 400. Refused before routing, so a
 * traversal can never pick another route's upstream.
 */
export class InvalidPathError extends TrellisError {
  constructor(options: TrellisErrorOptions = {}) {
    super('INVALID_PATH', 'Invalid request path', 400, options);
  }
}
/** Guard for {@link InvalidPathError}. */
export const isInvalidPathError = errorGuard<InvalidPathError>('INVALID_PATH');

/** The request body is larger than the route allows. HTTP 413. */
export class PayloadTooLargeError extends TrellisError {
  constructor(limit: number, options: TrellisErrorOptions = {}) {
    super('PAYLOAD_TOO_LARGE', `Request body larger than ${limit} bytes`, 413, {
      ...options,
      details: { limit },
    });
  }
}
/** Guard for {@link PayloadTooLargeError}. */
export const isPayloadTooLargeError = errorGuard<PayloadTooLargeError>('PAYLOAD_TOO_LARGE');

/** Every instance of the upstream is unhealthy, ejected or behind an open breaker. HTTP 503. */
export class NoHealthyUpstreamError extends TrellisError {
  readonly retryAfterMs: number;
  constructor(upstream: string, retryAfterMs: number, options: TrellisErrorOptions = {}) {
    super('NO_HEALTHY_UPSTREAM', `No healthy instance of "${upstream}"`, 503, {
      ...options,
      details: { upstream, retryAfterMs },
    });
    this.retryAfterMs = retryAfterMs;
  }
}
/** Guard for {@link NoHealthyUpstreamError}. */
export const isNoHealthyUpstreamError = errorGuard<NoHealthyUpstreamError>('NO_HEALTHY_UPSTREAM');

/** The upstream did not answer in time. HTTP 504. */
export class UpstreamTimeoutError extends TrellisError {
  constructor(upstream: string, timeoutMs: number, options: TrellisErrorOptions = {}) {
    super('UPSTREAM_TIMEOUT', `"${upstream}" did not answer within ${timeoutMs} ms`, 504, {
      ...options,
      details: { upstream, timeoutMs },
    });
  }
}
/** Guard for {@link UpstreamTimeoutError}. */
export const isUpstreamTimeoutError = errorGuard<UpstreamTimeoutError>('UPSTREAM_TIMEOUT');

/** The upstream could not be reached or broke the connection. HTTP 502. */
export class BadGatewayError extends TrellisError {
  constructor(upstream: string, reason: string, options: TrellisErrorOptions = {}) {
    super('BAD_GATEWAY', `"${upstream}" failed: ${reason}`, 502, { ...options, details: { upstream } });
  }
}
/** Guard for {@link BadGatewayError}. */
export const isBadGatewayError = errorGuard<BadGatewayError>('BAD_GATEWAY');
