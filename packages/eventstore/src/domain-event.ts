/**
 * The event model. A {@link DomainEvent} is a fact that happened to one aggregate (its
 * stream), stored once and never changed. Field names follow the seed's `DomainEvent`
 * (`id, aggregateId, aggregateType, eventType, payload, timestamp, version`); Trellis adds
 * the global `position`, the payload `schemaVersion` (for upcasting) and `metadata`.
 */

/**
 * Context carried by an event across hops: HTTP headers, bus headers, saga context. The
 * named keys are the ones Trellis itself reads; anything else JSON-serialisable is kept.
 */
export interface EventMetadata {
  /** Ties together everything caused by one user request. */
  correlationId?: string;
  /** Id of the command or event that directly caused this one. */
  causationId?: string;
  /** W3C trace context of the request that wrote the event. */
  traceparent?: string;
  /** The end user on whose behalf the event was written. */
  userId?: string;
  [key: string]: unknown;
}

/**
 * A stored event.
 *
 * @typeParam TType - the event type name, e.g. `'ItemAdded'`
 * @typeParam TPayload - the payload shape for that type
 */
export interface DomainEvent<TType extends string = string, TPayload = unknown> {
  /** Unique event id (UUIDv7 unless the writer supplied one); useful for de-duplication. */
  id: string;
  /** The stream the event belongs to; one aggregate instance is one stream. */
  aggregateId: string;
  /** Kind of aggregate, e.g. `'Order'`. */
  aggregateType: string;
  eventType: TType;
  payload: TPayload;
  /** When the event was written (from the store's injected clock). */
  timestamp: Date;
  /** 1-based position within its stream: the first event of a stream has version 1. */
  version: number;
  /**
   * 1-based position in the store's global log. Strictly increasing in commit order and
   * gap-free: a reader that has seen position `p` has seen every event with a lower one.
   */
  position: number;
  /** Version of the payload's schema, raised when the payload shape changes (see upcasters). */
  schemaVersion: number;
  metadata: EventMetadata;
}

/** An event about to be appended: the store assigns ids, versions, positions and time. */
export interface NewEvent<TType extends string = string, TPayload = unknown> {
  eventType: TType;
  payload: TPayload;
  /** Supply your own id (e.g. derived from a command id); defaults to a fresh UUIDv7. */
  id?: string;
  /** Defaults to the registered current schema version, or 1. */
  schemaVersion?: number;
  /** Merged over the append's default metadata. */
  metadata?: EventMetadata;
  /** Defaults to the store clock's now. */
  timestamp?: Date;
}

/** The smallest thing an aggregate can evolve from: the seed's tests pass only these two fields. */
export interface EventLike<TType extends string = string, TPayload = unknown> {
  eventType: TType;
  payload: TPayload;
  /** Present on stored events; when absent the aggregate counts events instead. */
  version?: number;
}

/**
 * Optimistic concurrency expectation for an append:
 * - a number `n`: the stream must currently be at version `n` (`0` means it must not exist);
 * - `'no_stream'`: the stream must not exist yet;
 * - `'stream_exists'`: the stream must have at least one event;
 * - `'any'`: no check (the default).
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';
