import { ValidationError } from '@trellis/core';
import type { ZodType } from 'zod';

/**
 * Payload schemas per topic (exact topic names). A bus validates on publish (a bad payload
 * throws `ValidationError` and nothing is sent) and on delivery (a bad payload from a
 * publisher that skipped validation is dead-lettered without reaching the handler).
 *
 * @example
 * ```ts
 * const schemas: TopicSchemas = { 'order.created': z.object({ orderId: z.string(), total: z.number() }) };
 * ```
 */
export type TopicSchemas = Readonly<Record<string, ZodType>>;

/** The parsed payload, or the {@link ValidationError} naming the bad field. */
export type ParseResult = { ok: true; value: unknown } | { ok: false; error: ValidationError };

/** Validates `payload` against `schema` (if any); returns the parsed value (defaults applied). */
export function parsePayload(schema: ZodType | undefined, payload: unknown): ParseResult {
  if (!schema) return { ok: true, value: payload };
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: ValidationError.fromZod(result.error, 'payload') };
}

/** Throws the {@link ValidationError} when `payload` fails the topic's schema. */
export function assertPayload(schemas: TopicSchemas | undefined, topic: string, payload: unknown): void {
  const result = parsePayload(schemas?.[topic], payload);
  if (!result.ok) throw result.error;
}

/**
 * Payloads travel as JSON on durable transports; the in-memory bus uses the same round trip so
 * a test sees what production would (dates become strings, `undefined` fields vanish).
 * Throws a `ValidationError` when the payload cannot be represented as JSON.
 */
export function toJson(payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (cause) {
    throw new ValidationError(
      'Invalid payload: not serialisable as JSON',
      [{ path: '', message: String(cause) }],
      {
        cause,
      },
    );
  }
  if (text === undefined) {
    throw new ValidationError('Invalid payload: not serialisable as JSON', [
      { path: '', message: 'payload is undefined or a function' },
    ]);
  }
  return text;
}
