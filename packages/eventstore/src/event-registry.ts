import { ValidationError, type ValidationIssue } from '@trellis/core';
import { z } from 'zod';
import type { DomainEvent } from './domain-event.js';
import { UnknownEventTypeError, UpcastError } from './errors.js';

/** Turns a payload of schema version `n` into version `n + 1`. */
export type Upcaster = (payload: unknown, event: DomainEvent) => unknown;

/** One event type: its current payload schema, version, and upcasters from older versions. */
export interface EventTypeDefinition<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Current schema version (default 1). Events are always written at this version. */
  version?: number;
  /** `upcasters[n]` turns a version-`n` payload into version `n + 1`. */
  upcasters?: Record<number, Upcaster>;
}

/** Event types by name: a bare zod schema means version 1 with no upcasters. */
export type EventDefinitions = Record<string, z.ZodType | EventTypeDefinition>;

type PayloadOf<X> =
  X extends EventTypeDefinition<infer S> ? z.output<S> : X extends z.ZodType ? z.output<X> : never;

/** The union of `DomainEvent`s a registry describes, for exhaustive `switch` on `eventType`. */
export type EventOf<R> =
  R extends EventRegistry<infer D>
    ? { [K in keyof D & string]: DomainEvent<K, PayloadOf<D[K]>> }[keyof D & string]
    : never;

interface Entry {
  schema: z.ZodType;
  version: number;
  upcasters: Map<number, Upcaster>;
}

/**
 * Payload schemas and upcasters per event type. Given to a store, it validates every
 * appended payload (unknown types and malformed payloads are rejected, nothing written) and
 * upcasts older events on read, so handlers only ever see the current shape.
 *
 * @example
 * ```ts
 * const orderEvents = defineEvents({
 *   ItemAdded: {
 *     schema: z.object({ productId: z.string(), quantity: z.number().int().positive(), unitPrice: z.number() }),
 *     version: 2,
 *     upcasters: { 1: (p) => ({ ...(p as object), unitPrice: 0 }) },
 *   },
 *   OrderSubmitted: z.object({}),
 * });
 * type OrderEvent = EventOf<typeof orderEvents>;
 * ```
 */
export class EventRegistry<D extends EventDefinitions = EventDefinitions> {
  private readonly entries = new Map<string, Entry>();

  constructor(definitions: D) {
    for (const [type, def] of Object.entries(definitions)) {
      const full: EventTypeDefinition = isDefinition(def) ? def : { schema: def };
      const version = full.version ?? 1;
      if (!Number.isInteger(version) || version < 1) {
        throw new ValidationError(`Event type "${type}" has an invalid schema version`, [
          { path: `${type}.version`, message: 'Expected a positive integer' },
        ]);
      }
      const upcasters = new Map(Object.entries(full.upcasters ?? {}).map(([k, f]) => [Number(k), f]));
      this.entries.set(type, { schema: full.schema, version, upcasters });
    }
  }

  /** The registered event type names. */
  get types(): string[] {
    return [...this.entries.keys()];
  }

  /** True when `eventType` is registered. */
  has(eventType: string): boolean {
    return this.entries.has(eventType);
  }

  /** Current schema version of `eventType` (1 for unregistered types). */
  currentVersion(eventType: string): number {
    return this.entries.get(eventType)?.version ?? 1;
  }

  /** Adds an upcaster from `fromVersion` to `fromVersion + 1`. Throws for unknown types. */
  upcaster(eventType: string, fromVersion: number, fn: Upcaster): this {
    const entry = this.entries.get(eventType);
    if (!entry) throw new UnknownEventTypeError(eventType);
    entry.upcasters.set(fromVersion, fn);
    return this;
  }

  /**
   * Validates a payload about to be written and returns the parsed value.
   *
   * Throws `UnknownEventTypeError` for unregistered types and `ValidationError` (paths under
   * `path`, e.g. `events.0.payload.quantity`) when the payload fails its schema.
   */
  validate(eventType: string, payload: unknown, path = 'payload'): unknown {
    const entry = this.entries.get(eventType);
    if (!entry) throw new UnknownEventTypeError(eventType, path.replace(/payload$/, 'eventType'));
    const result = entry.schema.safeParse(payload);
    if (result.success) return result.data;
    const issues: ValidationIssue[] = result.error.issues.map((i) => ({
      path: [path, ...i.path.map(String)].join('.'),
      message: i.message,
    }));
    throw new ValidationError(
      `Invalid ${eventType} payload at "${issues[0]?.path}": ${issues[0]?.message}`,
      issues,
      {
        cause: result.error,
      },
    );
  }

  /**
   * Brings a stored event to its type's current schema version. Unregistered types pass
   * through unchanged. Throws `UpcastError` when a step is missing or fails, or the event is
   * newer than this registry.
   */
  upcast<E extends DomainEvent>(event: E): E {
    const entry = this.entries.get(event.eventType);
    if (!entry || event.schemaVersion === entry.version) return event;
    if (event.schemaVersion > entry.version) {
      throw new UpcastError(event.eventType, event.schemaVersion, `newer than the known v${entry.version}`);
    }
    let payload = event.payload;
    for (let v = event.schemaVersion; v < entry.version; v++) {
      const step = entry.upcasters.get(v);
      if (!step) throw new UpcastError(event.eventType, event.schemaVersion, `no upcaster from v${v}`);
      try {
        payload = step(payload, event);
      } catch (err) {
        throw new UpcastError(event.eventType, event.schemaVersion, `upcaster from v${v} threw`, {
          cause: err,
        });
      }
    }
    return { ...event, payload, schemaVersion: entry.version };
  }

  /** JSON Schema of every payload (generated from the zod schemas, for docs and contracts). */
  jsonSchemas(): Record<string, unknown> {
    return Object.fromEntries([...this.entries].map(([type, e]) => [type, z.toJSONSchema(e.schema)]));
  }
}

/** Builds an {@link EventRegistry} with payload types inferred from the schemas. */
export function defineEvents<const D extends EventDefinitions>(definitions: D): EventRegistry<D> {
  return new EventRegistry(definitions);
}

function isDefinition(def: z.ZodType | EventTypeDefinition): def is EventTypeDefinition {
  return typeof (def as { safeParse?: unknown }).safeParse !== 'function';
}
