/** Validation of a saga's input at start: the edge where outside data enters a saga. */
import { ValidationError } from '@trellis/core';
import { reservedKeyIn, type SagaDefinition } from './definition.js';

/**
 * Parses the input with the saga's schema (if any) and returns it as plain JSON data.
 *
 * Throws `ValidationError` naming the field when the schema rejects it, when it is not an
 * object, uses a reserved key (`idempotencyKey`, `signal`, `saga`…), or is not JSON.
 */
export function validateInput(def: SagaDefinition<object, unknown>, input: object): Record<string, unknown> {
  let value: unknown = input;
  if (def.input) {
    const parsed = def.input.safeParse(input);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'saga input');
    value = parsed.data;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('Saga input must be an object', [{ path: '', message: 'expected an object' }]);
  }
  const reserved = reservedKeyIn(value);
  if (reserved) {
    throw new ValidationError(`Saga input uses the reserved key "${reserved}"`, [
      { path: reserved, message: 'reserved for the saga runtime' },
    ]);
  }
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch (error) {
    throw new ValidationError('Saga input must be JSON-serialisable', [{ path: '', message: String(error) }]);
  }
}
