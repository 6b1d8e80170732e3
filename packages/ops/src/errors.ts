/**
 * Errors of the ops API. Each has a stable code, an HTTP status and an `isXError` guard that
 * survives duplicate installs (brand via `Symbol.for` in @trellis/core).
 */
import { errorGuard, TrellisError } from '@trellis/core';

/** This instance does not provide what was asked (no saga store, no event store…): 404. */
export class OpsCapabilityMissingError extends TrellisError {
  constructor(capability: string, instance?: string) {
    super(
      'OPS_CAPABILITY_MISSING',
      instance ? `${instance} does not provide ${capability}` : `No instance provides ${capability}`,
      404,
      { details: { capability, ...(instance ? { instance } : {}) } },
    );
  }
}
/** Guard for {@link OpsCapabilityMissingError} (code `OPS_CAPABILITY_MISSING`). */
export const isOpsCapabilityMissingError = errorGuard<OpsCapabilityMissingError>('OPS_CAPABILITY_MISSING');

/**
 * Thrown by a consumer whose fault was armed through the ops API (chaos testing). Marked
 * `retryable: false` when armed as a poison fault, so the bus dead-letters at once.
 */
export class InjectedFaultError extends TrellisError {
  readonly retryable: boolean;
  constructor(group: string, retryable: boolean) {
    super('FAULT_INJECTED', `Fault injected into consumer group ${group}`, 500, { details: { group } });
    this.retryable = retryable;
  }
}
/** Guard for {@link InjectedFaultError} (code `FAULT_INJECTED`). */
export const isInjectedFaultError = errorGuard<InjectedFaultError>('FAULT_INJECTED');

/** An instance behind the aggregator could not be reached or answered 5xx: 502. */
export class OpsUpstreamError extends TrellisError {
  constructor(instance: string, message: string, options: { cause?: unknown; status?: number } = {}) {
    super('OPS_UPSTREAM_FAILED', `${instance}: ${message}`, 502, {
      cause: options.cause,
      details: { instance, ...(options.status ? { upstreamStatus: options.status } : {}) },
    });
  }
}
/** Guard for {@link OpsUpstreamError} (code `OPS_UPSTREAM_FAILED`). */
export const isOpsUpstreamError = errorGuard<OpsUpstreamError>('OPS_UPSTREAM_FAILED');

/** A webhook receiver did not accept an alert notification after every attempt. */
export class WebhookDeliveryError extends TrellisError {
  constructor(url: string, message: string, options: { cause?: unknown; status?: number } = {}) {
    super('WEBHOOK_DELIVERY_FAILED', `Webhook ${url}: ${message}`, 502, {
      cause: options.cause,
      details: { url, ...(options.status ? { status: options.status } : {}) },
    });
  }
}
/** Guard for {@link WebhookDeliveryError} (code `WEBHOOK_DELIVERY_FAILED`). */
export const isWebhookDeliveryError = errorGuard<WebhookDeliveryError>('WEBHOOK_DELIVERY_FAILED');
