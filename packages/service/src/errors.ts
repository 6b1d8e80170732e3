/**
 * Typed failures raised by the service runtime and its clients. Each extends `TrellisError`
 * (stable `code`, HTTP `status`) and has an `isXError` guard that matches the code, so it
 * survives duplicate installs.
 */
import { errorGuard, isTrellisError, TrellisError, type TrellisErrorOptions } from '@trellis/core';

const REMOTE = Symbol.for('trellis.remote-error');

/** The environment did not match the config schema. Start-up stops with this message. */
export class ConfigError extends TrellisError {
  /** One line per bad variable: `PORT: expected number, received "abc"`. */
  readonly problems: string[];

  constructor(problems: string[], options: TrellisErrorOptions = {}) {
    super('CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, 500, {
      ...options,
      details: { problems },
    });
    this.problems = problems;
  }
}
/** Guard for {@link ConfigError} (code `CONFIG_INVALID`). */
export const isConfigError = errorGuard<ConfigError>('CONFIG_INVALID');

/**
 * The service cannot take the request right now (draining for shutdown, not ready). HTTP 503;
 * `retryAfterMs` becomes the `Retry-After` header.
 */
export class ServiceUnavailableError extends TrellisError {
  readonly retryAfterMs: number;

  constructor(message = 'Service unavailable', retryAfterMs = 0, options: TrellisErrorOptions = {}) {
    super('SERVICE_UNAVAILABLE', message, 503, options);
    this.retryAfterMs = retryAfterMs;
  }
}
/** Guard for {@link ServiceUnavailableError} (code `SERVICE_UNAVAILABLE`). */
export const isServiceUnavailableError = errorGuard<ServiceUnavailableError>('SERVICE_UNAVAILABLE');

/**
 * An upstream service failed: it answered 5xx, its answer did not match the endpoint's response
 * schema, or the connection failed. HTTP 502. `details` names the upstream and what it said.
 */
export class UpstreamError extends TrellisError {
  /** Name of the upstream (the client's `name`). */
  readonly upstream: string;
  /** HTTP status the upstream answered with; 0 when no answer arrived. */
  readonly upstreamStatus: number;

  constructor(upstream: string, message: string, upstreamStatus = 0, options: TrellisErrorOptions = {}) {
    super('UPSTREAM_FAILED', message, 502, {
      ...options,
      details: options.details ?? { upstream, status: upstreamStatus },
    });
    this.upstream = upstream;
    this.upstreamStatus = upstreamStatus;
  }
}
/** Guard for {@link UpstreamError} (code `UPSTREAM_FAILED`). */
export const isUpstreamError = errorGuard<UpstreamError>('UPSTREAM_FAILED');

/**
 * An upstream answered with a typed 4xx error (`{ error: { code, message, details } }`). The
 * error keeps the upstream's code and status, so `isNotFoundError(e)` is true for a remote 404
 * and a caller can handle remote and local failures alike.
 */
export class RemoteError extends TrellisError {
  readonly upstream: string;

  constructor(
    upstream: string,
    code: string,
    message: string,
    status: number,
    details?: unknown,
    options: Omit<TrellisErrorOptions, 'details'> = {},
  ) {
    super(code, message, status, { ...options, details });
    this.upstream = upstream;
    Object.defineProperty(this, REMOTE, { value: true, enumerable: false });
  }
}
/** True when `e` is a {@link RemoteError} (any code), across duplicate installs. */
export function isRemoteError(e: unknown): e is RemoteError {
  return isTrellisError(e) && (e as unknown as Record<symbol, unknown>)[REMOTE] === true;
}

/** A handler's result did not match its endpoint's response schema. HTTP 500 (a server bug). */
export class ResponseValidationError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('RESPONSE_VALIDATION_FAILED', message, 500, options);
  }
}
/** Guard for {@link ResponseValidationError} (code `RESPONSE_VALIDATION_FAILED`). */
export const isResponseValidationError = errorGuard<ResponseValidationError>('RESPONSE_VALIDATION_FAILED');

/**
 * An `Idempotency-Key` was reused with a different request (method, path or body). HTTP 422,
 * as in the IETF Idempotency-Key draft.
 */
export class IdempotencyKeyReusedError extends TrellisError {
  constructor(key: string, options: TrellisErrorOptions = {}) {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${key}" was already used for a different request`,
      422,
      {
        ...options,
        details: options.details ?? { key },
      },
    );
  }
}
/** Guard for {@link IdempotencyKeyReusedError} (code `IDEMPOTENCY_KEY_REUSED`). */
export const isIdempotencyKeyReusedError = errorGuard<IdempotencyKeyReusedError>('IDEMPOTENCY_KEY_REUSED');

/** A request with the same `Idempotency-Key` is still being processed. HTTP 409; retry later. */
export class IdempotencyInProgressError extends TrellisError {
  readonly retryAfterMs: number;

  constructor(key: string, retryAfterMs = 1000, options: TrellisErrorOptions = {}) {
    super('IDEMPOTENCY_KEY_IN_PROGRESS', `A request with Idempotency-Key "${key}" is in progress`, 409, {
      ...options,
      details: options.details ?? { key },
    });
    this.retryAfterMs = retryAfterMs;
  }
}
/** Guard for {@link IdempotencyInProgressError} (code `IDEMPOTENCY_KEY_IN_PROGRESS`). */
export const isIdempotencyInProgressError = errorGuard<IdempotencyInProgressError>(
  'IDEMPOTENCY_KEY_IN_PROGRESS',
);
