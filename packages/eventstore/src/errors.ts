import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';
import type { ExpectedVersion } from './domain-event.js';

/**
 * An append's expected version did not match the stream (another writer got there first).
 * HTTP 409. Reload the aggregate and retry the command.
 */
export class ConcurrencyError extends TrellisError {
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  /** The stream's version when the append was checked (0 = the stream does not exist). */
  readonly actualVersion: number | undefined;

  constructor(
    streamId: string,
    expectedVersion: ExpectedVersion,
    actualVersion: number | undefined,
    options: Omit<TrellisErrorOptions, 'details'> = {},
  ) {
    const actual = actualVersion === undefined ? 'unknown' : String(actualVersion);
    super(
      'CONCURRENCY_CONFLICT',
      `Stream "${streamId}" expected version ${String(expectedVersion)} but is at ${actual}`,
      409,
      { ...options, details: { streamId, expectedVersion, actualVersion } },
    );
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}
/** Guard for {@link ConcurrencyError}. */
export const isConcurrencyError = errorGuard<ConcurrencyError>('CONCURRENCY_CONFLICT');

/**
 * An event type the store's registry does not know was appended. HTTP 400; nothing written.
 */
export class UnknownEventTypeError extends TrellisError {
  readonly eventType: string;

  constructor(eventType: string, path = 'eventType') {
    super('UNKNOWN_EVENT_TYPE', `Unknown event type "${eventType}" at "${path}"`, 400, {
      details: { eventType, path },
    });
    this.eventType = eventType;
  }
}
/** Guard for {@link UnknownEventTypeError}. */
export const isUnknownEventTypeError = errorGuard<UnknownEventTypeError>('UNKNOWN_EVENT_TYPE');

/**
 * A stored event could not be brought to its current schema version: an upcaster is missing
 * or threw, or the event is newer than this code knows. HTTP 500 (a deployment problem).
 */
export class UpcastError extends TrellisError {
  constructor(eventType: string, schemaVersion: number, message: string, options: TrellisErrorOptions = {}) {
    super('UPCAST_FAILED', `Cannot upcast ${eventType} v${schemaVersion}: ${message}`, 500, {
      ...options,
      details: { eventType, schemaVersion, ...(options.details as object | undefined) },
    });
  }
}
/** Guard for {@link UpcastError}. */
export const isUpcastError = errorGuard<UpcastError>('UPCAST_FAILED');

/**
 * A projection handler failed on an event and retries are exhausted; the projection stopped
 * with its checkpoint just before that event. HTTP 500.
 */
export class ProjectionError extends TrellisError {
  readonly projection: string;
  /** Global position of the event that failed. */
  readonly position: number | undefined;

  constructor(projection: string, position: number | undefined, cause: unknown) {
    const where = position === undefined ? '' : ` at position ${position}`;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('PROJECTION_FAILED', `Projection "${projection}" failed${where}: ${reason}`, 500, {
      cause,
      details: { projection, position },
    });
    this.projection = projection;
    this.position = position;
  }
}
/** Guard for {@link ProjectionError}. */
export const isProjectionError = errorGuard<ProjectionError>('PROJECTION_FAILED');
