import { type Clock, uuidv7, ValidationError } from '@trellis/core';
import { z } from 'zod';
import type { DomainEvent, EventMetadata, ExpectedVersion, NewEvent } from './domain-event.js';
import type { EventRegistry } from './event-registry.js';

/** One event validated and completed, ready for a backend to write. */
export interface PreparedEvent {
  id: string;
  eventType: string;
  schemaVersion: number;
  payload: unknown;
  metadata: EventMetadata;
  timestamp: Date;
}

/** A validated append: what every backend writes. */
export interface PreparedAppend {
  streamId: string;
  aggregateType: string;
  expectedVersion: ExpectedVersion;
  events: PreparedEvent[];
}

const name = z.string().min(1).max(200);
const metadataSchema = z.record(z.string(), z.unknown());

/** Schema of the caller's append arguments (the edge every backend shares). */
export const appendInputSchema = z.object({
  streamId: z.string().min(1).max(500),
  expectedVersion: z
    .union([z.number().int().min(0), z.enum(['any', 'no_stream', 'stream_exists'])])
    .optional(),
  aggregateType: name.optional(),
  metadata: metadataSchema.optional(),
  events: z
    .array(
      z.object({
        eventType: name,
        payload: z.unknown().refine((v) => v !== undefined, 'Required'),
        id: name.optional(),
        schemaVersion: z.number().int().min(1).optional(),
        metadata: metadataSchema.optional(),
        timestamp: z
          .date()
          .refine((d) => !Number.isNaN(d.getTime()), 'Invalid date')
          .optional(),
      }),
    )
    .max(10_000),
});

/** Schema of a non-negative integer read argument (`fromVersion`, `fromPosition`, `limit`). */
export const countSchema = z.number().int().min(0);

/**
 * Validates an append and fills in ids, schema versions, metadata and timestamps.
 *
 * Throws `ValidationError` naming the field (e.g. `events.0.payload.quantity`,
 * `expectedVersion`) and `UnknownEventTypeError` when a registry is given and does not
 * know a type. Pure: nothing is written before this returns.
 */
export function prepareAppend(
  streamId: string,
  events: readonly NewEvent[],
  options: { expectedVersion?: ExpectedVersion; aggregateType?: string; metadata?: EventMetadata },
  context: { clock: Clock; registry?: EventRegistry | undefined },
): PreparedAppend {
  const raw = {
    streamId,
    expectedVersion: options.expectedVersion,
    aggregateType: options.aggregateType,
    metadata: options.metadata,
    events,
  };
  let input = raw as z.output<typeof appendInputSchema>;
  // The hot path checks the common valid shape by hand; zod (the source of truth for what
  // is valid, and of the error messages) runs whenever that check is not sure.
  if (!looksValid(raw)) {
    const parsed = appendInputSchema.safeParse(raw);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'append');
    input = parsed.data;
  }
  const { registry, clock } = context;
  const now = clock.now();
  const prepared = input.events.map((e, i): PreparedEvent => {
    const current = registry?.currentVersion(e.eventType) ?? 1;
    const schemaVersion = e.schemaVersion ?? current;
    let payload: unknown = e.payload;
    if (registry) {
      payload = registry.validate(e.eventType, e.payload, `events.${i}.payload`);
      if (schemaVersion !== current) {
        throw new ValidationError(`events.${i}.schemaVersion must be the current version ${current}`, [
          { path: `events.${i}.schemaVersion`, message: `Expected ${current}` },
        ]);
      }
    }
    return {
      id: e.id ?? uuidv7(now),
      eventType: e.eventType,
      schemaVersion,
      payload,
      metadata: input.metadata || e.metadata ? { ...input.metadata, ...e.metadata } : {},
      timestamp: e.timestamp ?? new Date(now),
    };
  });
  return {
    streamId: input.streamId,
    aggregateType: input.aggregateType ?? 'unknown',
    expectedVersion: input.expectedVersion ?? 'any',
    events: prepared,
  };
}

/** Validates a non-negative integer argument; throws `ValidationError` naming it. */
export function checkCount(value: number, field: string): number {
  const r = countSchema.safeParse(value);
  if (!r.success)
    throw ValidationError.fromZod({ issues: r.error.issues.map((i) => ({ ...i, path: [field] })) }, field);
  return r.data;
}

/** True when a stream at `actual` satisfies `expected`. */
export function versionMatches(expected: ExpectedVersion, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 0;
  if (expected === 'stream_exists') return actual > 0;
  return expected === actual;
}

const isName = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 200;
const isRecord = (v: unknown) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
// Safe integers only, as zod's int(): 2^53 is an integer but not a version anyone can count to.
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A strict subset of `appendInputSchema`: true only when zod would certainly accept `a`. */
export function looksValid(a: {
  streamId: unknown;
  expectedVersion: unknown;
  aggregateType: unknown;
  metadata: unknown;
  events: unknown;
}): boolean {
  if (typeof a.streamId !== 'string' || a.streamId.length < 1 || a.streamId.length > 500) return false;
  const ev = a.expectedVersion;
  if (ev !== undefined && !isCount(ev) && ev !== 'any' && ev !== 'no_stream' && ev !== 'stream_exists')
    return false;
  if (a.aggregateType !== undefined && !isName(a.aggregateType)) return false;
  if (a.metadata !== undefined && !isRecord(a.metadata)) return false;
  if (!Array.isArray(a.events) || a.events.length > 10_000) return false;
  for (const e of a.events as unknown[]) {
    if (!isRecord(e)) return false;
    const x = e as Record<string, unknown>;
    if (!isName(x.eventType) || x.payload === undefined) return false;
    if (x.id !== undefined && !isName(x.id)) return false;
    if (x.schemaVersion !== undefined && !(isCount(x.schemaVersion) && (x.schemaVersion as number) >= 1))
      return false;
    if (x.metadata !== undefined && !isRecord(x.metadata)) return false;
    if (x.timestamp !== undefined && !(x.timestamp instanceof Date && !Number.isNaN(x.timestamp.getTime())))
      return false;
  }
  return true;
}

/**
 * The stored form of a prepared event. Built field by field on purpose: an object spread
 * here cost more than the SQLite insert itself (V8's generic clone path), measured.
 */
export function storedEvent(
  e: PreparedEvent,
  streamId: string,
  aggregateType: string,
  version: number,
  position: number,
): DomainEvent {
  return {
    id: e.id,
    aggregateId: streamId,
    aggregateType,
    eventType: e.eventType,
    payload: e.payload,
    timestamp: e.timestamp,
    version,
    position,
    schemaVersion: e.schemaVersion,
    metadata: e.metadata,
  };
}
