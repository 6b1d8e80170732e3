/**
 * Schemas shared by several services' contracts: ids, money, addresses, pages. Written once
 * here, so a service and the clients that call it can never disagree about a field.
 */
import { ValidationError } from '@trellis/core';
import { textProblem } from '@trellis/service';
import { z } from 'zod';

/** An opaque id (UUIDs and the demo catalog's readable ids alike). */
export const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** Amounts are integer cents: no floating-point money anywhere. */
export const cents = z.number().int().min(0).max(100_000_000);

/** The shop's one currency. */
export const currency = z.literal('EUR');

/** A postal address. */
export const Address = z.object({
  name: z.string().trim().min(1).max(100),
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).optional(),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  /** ISO 3166-1 alpha-2, e.g. `NL`. */
  country: z
    .string()
    .length(2)
    .regex(/^[A-Za-z]{2}$/)
    .transform((c) => c.toUpperCase()),
});
/** A postal address. */
export type Address = z.output<typeof Address>;

/** `limit` and `cursor` of a paged listing. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
};

/** A page of items with the cursor of the next page (`null` on the last one). */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} holding `size` values.
 *
 * Throws `ValidationError` naming `cursor` when it is malformed.
 */
export function decodeCursor(cursor: string, size: number): (string | number)[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // A cursor's values go into SQL parameters: text no database stores (NUL, lone
    // surrogates) is as malformed as a wrong shape.
    if (
      Array.isArray(parsed) &&
      parsed.length === size &&
      parsed.every(
        (v) => (typeof v === 'string' && !textProblem(v)) || (typeof v === 'number' && Number.isFinite(v)),
      )
    ) {
      return parsed as (string | number)[];
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('Invalid query at "cursor": malformed cursor', [
    { path: 'cursor', message: 'malformed cursor' },
  ]);
}
