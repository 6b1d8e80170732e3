/**
 * The harness's own failures. Violations found by an experiment are not errors — they are the
 * report's findings, and the run exits 1 with them listed; these are the cases where the
 * harness cannot run an experiment honestly at all.
 */
import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/**
 * The machine cannot host a selected experiment: network namespaces cannot be created (not
 * root, no `ip`), a server binary is missing, or the mode lacks what the fault needs. Under
 * `CI=true` this fails the run instead of skipping, so CI never passes on a harness that
 * silently did less. HTTP status 503 (the environment, not the request, is lacking).
 */
export class ChaosEnvironmentError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('CHAOS_ENVIRONMENT', message, 503, options);
  }
}
/** Guard for {@link ChaosEnvironmentError} (code `CHAOS_ENVIRONMENT`). */
export const isChaosEnvironmentError = errorGuard<ChaosEnvironmentError>('CHAOS_ENVIRONMENT');

/**
 * Setting up or removing a fault failed (a command exited non-zero, a process would not come
 * back): the experiment cannot say anything about the system. HTTP status 500;
 * `details.experiment` names it.
 */
export class ChaosFaultError extends TrellisError {
  constructor(experiment: string, message: string, options: TrellisErrorOptions = {}) {
    super('CHAOS_FAULT_FAILED', `${experiment}: ${message}`, 500, { ...options, details: { experiment } });
  }
}
/** Guard for {@link ChaosFaultError} (code `CHAOS_FAULT_FAILED`). */
export const isChaosFaultError = errorGuard<ChaosFaultError>('CHAOS_FAULT_FAILED');
