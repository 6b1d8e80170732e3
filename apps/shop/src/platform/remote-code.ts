/**
 * What an upstream said when it failed. A typed 4xx arrives as a `RemoteError` carrying the
 * upstream's own code; a 5xx arrives as an `UpstreamError` (code `UPSTREAM_FAILED`) whose
 * details keep the upstream's error body. This reads the upstream's code in both cases, so a
 * caller can tell "payments is down" from "payments says the card processor is down".
 */
import { isTrellisError, isValidationError } from '@trellis/core';
import { isCircuitBreakerOpenError, isTimeoutError, TimeoutError } from '@trellis/resilience';
import { isRemoteError, isUpstreamError } from '@trellis/service';
import { notSent } from './clients.js';

/** The error code the upstream itself answered with, else the error's own code. */
export function upstreamCode(error: unknown): string | undefined {
  if (isUpstreamError(error)) {
    const inner = (error.details as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (typeof inner === 'string') return inner;
  }
  return isTrellisError(error) ? error.code : undefined;
}

/** True when an upstream answered that one of *its* dependencies is unavailable (it is alive itself). */
export function answeredUnavailable(error: unknown, codes: readonly string[]): boolean {
  return isUpstreamError(error) && codes.includes(upstreamCode(error) ?? '');
}

const KEY_IN_DOUBT = new Set(['IDEMPOTENCY_KEY_IN_PROGRESS', 'IDEMPOTENCY_KEY_REUSED']);

/** Answers after which the caller knows whether the call took effect (it did not). */
const DEFINITE_UPSTREAM_CODES = new Set(['PROCESSOR_UNAVAILABLE']);

/**
 * True when a failed call may still have taken effect upstream: the connection broke after
 * the request was sent, the upstream crashed mid-request, answered an untyped 5xx, or the same
 * key is still being processed. False when the answer is definite for the key: a typed 4xx
 * (the upstream's tables are idempotent by key, so it describes every earlier attempt too), an
 * upstream that said for certain nothing happened, or invalid input.
 *
 * A call that was never sent (breaker open, connection refused) is definite only on the first
 * attempt: on a retry, an earlier attempt — possibly one cut off by a crash of this process —
 * may have acted, and this failure says nothing about it.
 */
export function outcomeUnknown(error: unknown, attempt = 1): boolean {
  if (isValidationError(error)) return false;
  if (isCircuitBreakerOpenError(error) || notSent(error)) return attempt > 1;
  // The key is still running, or was used by an attempt that looked different: either way an
  // earlier attempt with this key exists and may have acted.
  if (isRemoteError(error)) return KEY_IN_DOUBT.has(error.code);
  if (isUpstreamError(error) && DEFINITE_UPSTREAM_CODES.has(upstreamCode(error) ?? '')) return false;
  return true;
}

/**
 * The saga runner treats a step whose last attempt failed with a `TimeoutError` as having an
 * unknown outcome, and compensates that step too (its compensation tolerates "nothing to undo"
 * and leaves a tombstone, so a late duplicate cannot take effect afterwards). This wraps a
 * step's remote call so that every failure of unknown outcome is reported that way, with the
 * original error as its cause; definite failures pass through unchanged.
 */
export async function ambiguousAsUnknown<T>(attempt: number, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isTimeoutError(error) || !outcomeUnknown(error, attempt)) throw error;
    throw unknownOutcome(error);
  }
}

/** The error that tells the saga runner a step's effect may be in place (see {@link ambiguousAsUnknown}). */
export function unknownOutcome(error: unknown): TimeoutError {
  return new TimeoutError(0, `Outcome unknown: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
