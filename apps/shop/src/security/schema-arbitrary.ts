/**
 * fast-check arbitraries from an endpoint's zod schemas, through zod 4's own JSON Schema
 * (`z.toJSONSchema`, input side): values a careful client would send, at and inside every
 * declared bound (lengths, ranges, patterns, enums, required keys). Hostile variants are
 * built on top of these in `hostile-values.ts`.
 */
import fc from 'fast-check';
import { z } from 'zod';

/** The subset of JSON Schema that zod 4 produces for the shop's contracts. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  default?: unknown;
}

/** The JSON Schema of what `schema` accepts (transforms and refinements become "anything"). */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** The single type a node declares (`integer`, `string`…), or undefined for unions and `{}`. */
export function typeOf(s: JsonSchema): string | undefined {
  if (typeof s.type === 'string') return s.type;
  if (s.const !== undefined) return typeof s.const === 'number' ? 'number' : typeof s.const;
  if (s.enum) return 'enum';
  return undefined;
}

const SMALL = 8;

function stringArbitrary(s: JsonSchema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 200;
  const fits = (v: string) => v.length >= min && v.length <= max;
  if (s.format === 'email') return fc.emailAddress().filter(fits);
  if (s.pattern) {
    const re = new RegExp(s.pattern);
    return fc.stringMatching(re).filter((v) => fits(v) && re.test(v));
  }
  const cap = Math.min(max, Math.max(min, 40));
  // Printable text, any script, and the exact bounds: the lengths a validator gets wrong.
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: cap, unit: 'grapheme' }) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(max)) },
    { weight: 1, arbitrary: fc.constant('y'.repeat(Math.max(min, 1))).filter(fits) },
  );
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = Math.max(s.minimum ?? -1e9, (s.exclusiveMinimum ?? -Infinity) + (integer ? 1 : 1e-9), -1e15);
  const hi = Math.min(s.maximum ?? 1e9, (s.exclusiveMaximum ?? Infinity) - (integer ? 1 : 1e-9), 1e15);
  const bounds = fc.constantFrom(lo, hi);
  if (integer) {
    const range = fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
    return fc.oneof({ weight: 4, arbitrary: range }, { weight: 1, arbitrary: bounds.map(Math.round) });
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: bounds },
  );
}

/** Arbitraries to use for properties of these names (ids that exist, harmless settings). */
export type Hints = Readonly<Record<string, fc.Arbitrary<unknown>>>;

/**
 * Values `schema` accepts (as far as JSON Schema can say: refinements such as a Luhn check or
 * "at least one field" are not known here, so some values are still refused by the service).
 * A property named in `hints` takes its values from there instead.
 */
export function validArbitrary(s: JsonSchema, depth = 0, hints: Hints = {}): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union) return fc.oneof(...union.map((u) => validArbitrary(u, depth + 1, hints)));
  if (s.allOf?.length) return validArbitrary(s.allOf[0] as JsonSchema, depth + 1, hints);
  switch (typeOf(s)) {
    case 'string':
      return stringArbitrary(s);
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return numberArbitrary(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = s.items ? validArbitrary(s.items, depth + 1, hints) : fc.jsonValue({ maxDepth: 1 });
      const minLength = s.minItems ?? 0;
      return fc.array(item, { minLength, maxLength: Math.min(s.maxItems ?? SMALL, Math.max(minLength, 4)) });
    }
    case 'object': {
      const props = s.properties ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = hints[k] ?? validArbitrary(v, depth + 1, hints);
      const requiredKeys = (s.required ?? []).filter((k) => k in props);
      return fc.record(record, { requiredKeys });
    }
    default:
      return fc.jsonValue({ maxDepth: depth > 2 ? 0 : 2 });
  }
}

/**
 * One small value `s` accepts, the same every time (for building a request that only fails on
 * purpose): the shortest of a few seeded samples, so no bound other than the one under test is
 * anywhere near.
 */
export function exampleOf(s: JsonSchema | undefined): unknown {
  if (!s) return undefined;
  const samples = fc.sample(validArbitrary(s), { numRuns: 20, seed: 42 });
  const size = (v: unknown) => JSON.stringify(v)?.length ?? 0;
  return samples.reduce((best, v) => (size(v) < size(best) ? v : best), samples[0]);
}

/** The named fields of an object schema (query strings and path parameters). */
export function fieldsOf(s: JsonSchema | undefined): Array<[string, JsonSchema]> {
  return Object.entries(s?.properties ?? {});
}

/** Renders a value for a query string or a path segment (numbers and booleans as text). */
export function asParam(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
