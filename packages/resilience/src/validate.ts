/**
 * Option checks for policy constructors (internal). A bad option is a programming error, but
 * it is still reported as a `ValidationError` naming the field, like every other bad input.
 */
import { ValidationError } from '@trellis/core';

function fail(field: string, message: string): never {
  throw new ValidationError(`Invalid option "${field}": ${message}`, [{ path: field, message }]);
}

/** An integer ≥ `min` (Infinity allowed when `allowInfinity`). */
export function int(field: string, value: number, min: number, allowInfinity = false): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(field, `expected an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A finite number ≥ `min`. */
export function num(field: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(field, `expected a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A rate in (0, 1]. */
export function rate(field: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    fail(field, `expected a rate in (0, 1], got ${String(value)}`);
  }
  return value;
}

/** Reports an option combination that cannot work. */
export function invalid(field: string, message: string): never {
  return fail(field, message);
}
