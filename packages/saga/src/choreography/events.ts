/**
 * An event catalog: one zod schema per topic. It types the handlers (`event` is the topic's
 * parsed payload), validates what arrives (a bad payload is dead-lettered before any handler
 * runs) and what handlers publish (a bad payload throws `ValidationError` and nothing commits).
 */
import { ValidationError } from '@trellis/core';
import { assertTopic } from '@trellis/messaging';
import type { output, ZodType } from 'zod';

/** Topic → payload schema. */
export type EventCatalog = Readonly<Record<string, ZodType>>;

/** Topic → payload type of a catalog. */
export type EventsOf<C extends EventCatalog> = { [K in keyof C]: output<C[K]> };

/** Topics of a catalog. */
export type TopicOf<C extends EventCatalog> = keyof C & string;

/**
 * Declares the events of a choreography.
 *
 * Throws `ValidationError` when a topic is malformed.
 *
 * @example
 * ```ts
 * const shop = defineEvents({
 *   'order.created': z.object({ orderId: z.string(), total: z.number() }),
 *   'payment.requested': z.object({ orderId: z.string(), amount: z.number() }),
 * });
 * ```
 */
export function defineEvents<C extends EventCatalog>(catalog: C): C {
  for (const topic of Object.keys(catalog)) assertTopic(topic);
  return Object.freeze({ ...catalog });
}

/** Parses `payload` with the topic's schema; throws `ValidationError` naming the field. */
export function parseEvent<C extends EventCatalog, K extends TopicOf<C>>(
  catalog: C,
  topic: K,
  payload: unknown,
): EventsOf<C>[K] {
  const schema = catalog[topic];
  if (!schema) {
    throw new ValidationError(`Unknown topic "${topic}"`, [
      { path: 'topic', message: 'not in the event catalog' },
    ]);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, `${topic} payload`);
  return parsed.data as EventsOf<C>[K];
}
