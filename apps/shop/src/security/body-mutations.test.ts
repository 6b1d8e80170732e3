/**
 * The fuzzer's generators do what the security claims say they do: every kind of hostile input
 * the issue names (duplicate keys, deep nesting, huge strings, hostile Unicode, wrong types,
 * boundary values) really comes out of them, and a value they call "certainly invalid" really
 * is refused by the endpoint's own zod schema or by the services' input checks. A generator
 * that quietly stopped producing one kind, or that called a valid body invalid, would make the
 * end-to-end fuzz test pass for the wrong reason.
 */
import { findInputProblem } from '@trellis/service';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Address } from '../contracts/common.js';
import { PlaceOrderBody } from '../contracts/orders.js';
import {
  certainlyInvalid,
  type Mutated,
  mutationArbitrary,
  jsonNesting as nesting,
  SERVICE_MAX_DEPTH,
} from './body-mutations.js';
import { canBreak, type FuzzRequest, fuzzRequestArbitrary, textInvalid } from './fuzz-requests.js';
import { DuplicateKeys, Raw, toJsonText } from './hostile-values.js';
import { publicRoutes } from './route-catalog.js';
import { jsonSchemaOf, validArbitrary } from './schema-arbitrary.js';

const SEED = 20261125;
/** The shop gateway's body limit. */
const GATEWAY_BODY_LIMIT = 256 * 1024;

const orderSchema = jsonSchemaOf(PlaceOrderBody);
const routes = publicRoutes();

/** Every string inside a parsed JSON value. */
function stringsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsIn(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      stringsIn(x, out);
    }
  return out;
}

/** Whether the shop refuses this body text: unparseable, the input checks, or the schema. */
function refused(text: string, schema: { safeParse(v: unknown): { success: boolean } }): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return true;
  }
  return findInputProblem(parsed, SERVICE_MAX_DEPTH) !== undefined || !schema.safeParse(parsed).success;
}

function orderMutations(n: number): Mutated[] {
  const arb = validArbitrary(orderSchema).chain((v) => mutationArbitrary(orderSchema, v, false));
  return fc.sample(arb, { numRuns: n, seed: SEED });
}

describe('body mutations', () => {
  const mutations = orderMutations(3000);

  it('produce every kind: whole value replaced, a field made hostile, a required field dropped, a key repeated', () => {
    const kinds = new Set(mutations.map((m) => m.note.replace(/^[\w.]+ /, '')));
    expect(kinds).toEqual(new Set(['value replaced', '← hostile', 'dropped', 'repeated']));
  });

  it('call a value invalid only when the endpoint’s schema or the input checks refuse it', () => {
    const lies = mutations
      .filter((m) => m.invalid && !refused(toJsonText(m.value), PlaceOrderBody))
      .map((m) => `${m.note}: ${toJsonText(m.value).slice(0, 200)}`);
    expect(lies).toEqual([]);
    // And most mutations do break the body, so the refusals are really exercised.
    expect(mutations.filter((m) => m.invalid).length).toBeGreaterThan(mutations.length / 2);
  });

  it('repeat a key for real: the text carries it twice, and JSON.parse keeps the last, as the services do', () => {
    const repeated = mutations.filter((m) => m.value instanceof DuplicateKeys);
    expect(repeated.length).toBeGreaterThan(50);
    for (const m of repeated) {
      const key = m.note.replace(/ repeated$/, '');
      const text = toJsonText(m.value);
      expect(text.split(`${JSON.stringify(key)}:`).length - 1, text).toBe(2);
      const entries = (m.value as DuplicateKeys).entries.filter(([k]) => k === key);
      const last = entries[entries.length - 1]?.[1];
      // The pair comes last in the object: the value after the last occurrence is the one sent.
      const tail = text.slice(
        text.lastIndexOf(`${JSON.stringify(key)}:`) + JSON.stringify(key).length + 1,
        -1,
      );
      expect(tail).toBe(toJsonText(last ?? null));
      // (Deep values are compared as text only: comparing them as objects overflows the stack.)
      if (nesting(tail) < 100)
        expect((JSON.parse(text) as Record<string, unknown>)[key]).toEqual(JSON.parse(tail));
    }
  });

  it('put wrong types in: a field whose JSON type its schema cannot take, always called invalid', () => {
    const addressFields = ['name', 'line1', 'city', 'postalCode'];
    const wrong = mutations.filter((m) => {
      const field = /^shippingAddress\.(\w+) ← hostile$/.exec(m.note)?.[1];
      if (!field || !addressFields.includes(field)) return false;
      const v = (m.value as { shippingAddress: Record<string, unknown> }).shippingAddress[field];
      return typeof v !== 'string';
    });
    expect(wrong.length).toBeGreaterThan(20);
    expect(wrong.every((m) => m.invalid)).toBe(true);
  });
});

describe('the hostile inputs the issue names all occur', () => {
  // Every body-carrying route, and every route with query or path parameters.
  const samples: FuzzRequest[] = routes.flatMap((r, i) =>
    fc.sample(fuzzRequestArbitrary(r, {}, false), { numRuns: 60, seed: SEED + i }),
  );
  const texts = samples.map((s) => `${decodeURIComponentSafe(s.path)}\n${s.body ?? ''}`);
  const bodies = samples.flatMap((s) => (s.body ? [s.body] : []));
  const parsedStrings = bodies.flatMap((b) => {
    try {
      return stringsIn(JSON.parse(b));
    } catch {
      return [];
    }
  });

  it('duplicate keys in a JSON body', () => {
    const dup = bodies.filter((b) => /"(\w+)":.*"\1":/.test(b) && /^\{/.test(b));
    expect(dup.length).toBeGreaterThan(10);
  });

  it('nesting far past the services’ limit, in bodies', () => {
    const deep = bodies.filter((b) => nesting(b) > 1000);
    expect(deep.length).toBeGreaterThan(10);
    expect(deep.every((b) => nesting(b) > SERVICE_MAX_DEPTH)).toBe(true);
  });

  it('huge strings, both under and over the gateway’s body limit', () => {
    const huge = parsedStrings.filter((s) => s.length >= 5000);
    expect(huge.length).toBeGreaterThan(10);
    expect(bodies.some((b) => b.length > GATEWAY_BODY_LIMIT)).toBe(true);
    expect(bodies.some((b) => b.length > 65_536 && b.length < GATEWAY_BODY_LIMIT)).toBe(true);
  });

  it('hostile Unicode: NUL, lone surrogates, right-to-left overrides, zero-width marks', () => {
    const all = [...parsedStrings, ...texts];
    expect(all.some((s) => s.includes('\u0000'))).toBe(true);
    expect(
      all.some((s) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)),
    ).toBe(true);
    expect(all.some((s) => s.includes('\u202e'))).toBe(true);
    expect(all.some((s) => s.includes('\u200b'))).toBe(true);
  });

  it('wrong types and numbers beyond every bound (float, negative, 2^53, beyond float range)', () => {
    const joined = bodies.join('\n');
    for (const n of ['1e400', '9007199254740992', '-1.5', '123456789012345678901234567890'])
      expect(joined, n).toContain(n);
    expect(bodies.some((b) => /:(?:null|true|false|\[\]|\{\})[,}]/.test(b))).toBe(true);
  });

  it('malformed bodies: truncated JSON, __proto__, form encodings', () => {
    const contentTypes = new Set(samples.map((s) => s.headers['content-type']).filter(Boolean));
    expect(contentTypes).toContain('application/x-www-form-urlencoded');
    expect(contentTypes).toContain('multipart/form-data; boundary=x');
    expect(bodies.some((b) => b.startsWith('{"__proto__"'))).toBe(true);
    expect(bodies.some((b) => !isJson(b) && !b.startsWith('a='))).toBe(true);
  });

  it('every role against every route, and requests that must be refused on every breakable route', () => {
    expect(new Set(samples.map((s) => s.role))).toEqual(new Set(['anonymous', 'customer', 'admin']));
    for (const r of routes.filter(canBreak)) {
      const broken = fc.sample(fuzzRequestArbitrary(r, {}, true), { numRuns: 10, seed: SEED });
      expect(
        broken.every((b) => b.invalid),
        r.key,
      ).toBe(true);
    }
  });

  it('asking a route that accepts everything for a refusal is an error, not a search that never ends', () => {
    const categories = routes.find((r) => r.key === 'GET /api/categories');
    expect(categories && canBreak(categories)).toBe(false);
    expect(() => categories && fuzzRequestArbitrary(categories, {}, true)).toThrow(/nothing to break/);
  });
});

describe('boundary values of the valid generator', () => {
  it('hits each string bound exactly, and the integer bounds', () => {
    const addressSchema = jsonSchemaOf(Address);
    const samples = fc.sample(validArbitrary(addressSchema), { numRuns: 400, seed: SEED }) as Array<
      Record<string, string>
    >;
    expect(samples.some((a) => a.line1?.length === 200)).toBe(true);
    expect(samples.some((a) => a.name?.length === 1)).toBe(true);
    const quantities = fc
      .sample(validArbitrary(orderSchema), { numRuns: 400, seed: SEED })
      .flatMap((o) => (o as { items: Array<{ quantity: number }> }).items.map((i) => i.quantity));
    expect(quantities).toContain(1);
    expect(quantities).toContain(100);
    expect(quantities.every((q) => Number.isInteger(q) && q >= 1 && q <= 100)).toBe(true);
  });

  it('produces values the schema accepts (an address has no refinement JSON Schema misses)', () => {
    const addressSchema = jsonSchemaOf(Address);
    const samples = fc.sample(validArbitrary(addressSchema), { numRuns: 300, seed: SEED });
    const refusedSamples = samples.filter((a) => !Address.safeParse(a).success);
    // Whitespace-only text passes JSON Schema's minLength but not zod's trim().min(1).
    expect(
      refusedSamples.filter(
        (a) => !Object.values(a as object).some((v) => typeof v === 'string' && !v.trim()),
      ),
    ).toEqual([]);
  });
});

describe('certainlyInvalid and textInvalid', () => {
  const s = { type: 'string', maxLength: 5, pattern: '^[a-z]+$' } as const;
  const n = { type: 'integer', minimum: 1, maximum: 10 } as const;

  it('know a value the schema cannot take', () => {
    expect(certainlyInvalid(s, 'abcdef')).toBe(true);
    expect(certainlyInvalid(s, 'AB')).toBe(true);
    expect(certainlyInvalid(s, 7)).toBe(true);
    expect(certainlyInvalid(s, 'ok\u0000')).toBe(true);
    expect(certainlyInvalid(n, 1.5)).toBe(true);
    expect(certainlyInvalid(n, new Raw('1e400'))).toBe(true);
    expect(certainlyInvalid(n, 11)).toBe(true);
    expect(certainlyInvalid({ enum: ['a', 'b'] }, 'c')).toBe(true);
    expect(certainlyInvalid({ type: 'object' }, new Raw('[[]]'))).toBe(true);
    expect(certainlyInvalid({ type: 'array' }, new Raw(`${'['.repeat(40)}${']'.repeat(40)}`))).toBe(true);
  });

  it('never call a value invalid that might pass', () => {
    expect(certainlyInvalid(s, 'abc')).toBe(false);
    // zod trims before it measures: padded text may still fit.
    expect(certainlyInvalid(s, '  abcde  ')).toBe(false);
    expect(certainlyInvalid(n, 10)).toBe(false);
    expect(certainlyInvalid({}, 'anything')).toBe(false);
    expect(certainlyInvalid({ type: 'array' }, new Raw('[[]]'))).toBe(false);
  });

  it('judge query and path text as the services parse it', () => {
    expect(textInvalid(n, '1.5', 'query')).toBe(true);
    expect(textInvalid(n, '3', 'query')).toBe(false);
    expect(textInvalid(s, 'a/b', 'path')).toBe(true);
    expect(textInvalid(s, '..', 'path')).toBe(true);
    // An undecodable escape leaves the query value as literal percent text: it may pass, NUL and all.
    expect(textInvalid({ type: 'string' }, 'x\ud800', 'query')).toBe(false);
    expect(textInvalid({ type: 'string' }, 'x\ud800\u0000', 'query')).toBe(false);
    expect(textInvalid({ type: 'string' }, 'x\u0000', 'query')).toBe(true);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
