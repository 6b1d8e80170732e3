/** Small helpers for AbortSignal handling shared by every policy (internal). */
import { AbortedError, isTrellisError } from '@trellis/core';

/** A signal that never aborts: handed to work when the caller gave none (no allocation). */
export const neverAborted: AbortSignal = new AbortController().signal;

/**
 * The error to reject with when `signal` aborted: its reason when that is already a Trellis
 * error (a policy's `TimeoutError`, a `DeadlineExceededError`), else an `AbortedError` whose
 * cause is the reason.
 */
export function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return isTrellisError(reason) ? reason : new AbortedError(undefined, { cause: reason });
}

/**
 * A controller that aborts when `parent` does. Returns the controller and a function that
 * detaches it from the parent (call it when the work ends, so long-lived parent signals do
 * not accumulate listeners).
 */
export function linkedController(parent: AbortSignal | undefined): {
  controller: AbortController;
  unlink: () => void;
} {
  const controller = new AbortController();
  if (!parent || parent === neverAborted) return { controller, unlink: noop };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, unlink: noop };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}

function noop(): void {}
