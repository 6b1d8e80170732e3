/**
 * Mutations of one generated value against its JSON Schema: a field replaced by a hostile
 * value, a required field dropped, a key repeated, the whole value swapped for something else.
 * Each mutation says whether it makes the value certainly invalid (a type the schema cannot
 * take, a bound crossed, text no database stores), so the fuzzer knows which requests the
 * shop must refuse — and must not have written anything for.
 */
import fc from 'fast-check';
import { DuplicateKeys, hostileValue, isMalformedText, Raw, wrongType } from './hostile-values.js';
import { type JsonSchema, typeOf } from './schema-arbitrary.js';

/** A value with what was done to it. */
export interface Mutated {
  value: unknown;
  /** What changed, for the failure report. */
  note: string;
  /** True when the schema cannot accept the result. */
  invalid: boolean;
}

function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Raw && !/^[[{]/.test(v.text)) return Number(v.text);
  return undefined;
}

/** How deep the services let a request nest (`installInputChecks`' default). */
export const SERVICE_MAX_DEPTH = 32;

/** Deepest bracket nesting of JSON text (brackets inside strings do not count). */
export function jsonNesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
}

/** Whether `v` certainly fails `s` (false when it might pass: unknown schemas, transforms). */
export function certainlyInvalid(s: JsonSchema, v: unknown): boolean {
  if (typeof v === 'string' && isMalformedText(v)) return true;
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf ?? []).every((u) => certainlyInvalid(u, v));
  if (s.enum) return typeof v !== 'string' || !s.enum.includes(v);
  const type = typeOf(s);
  if (type === undefined) return false;
  if (v instanceof Raw && /^[[{]/.test(v.text)) {
    // Nesting past the services' limit is refused whatever the schema; otherwise the kind decides.
    if (jsonNesting(v.text) > SERVICE_MAX_DEPTH) return true;
    return type !== (v.text.startsWith('[') ? 'array' : 'object');
  }
  if (type === 'string') {
    if (typeof v !== 'string') return true;
    const trimmed = v.trim().length;
    if (s.maxLength !== undefined && trimmed > s.maxLength) return true;
    if (s.pattern && v === v.trim() && !new RegExp(s.pattern).test(v)) return true;
    return false;
  }
  if (type === 'integer' || type === 'number') {
    const n = numeric(v);
    if (n === undefined || !Number.isFinite(n)) return true;
    if (type === 'integer' && !Number.isInteger(n)) return true;
    return (s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum);
  }
  if (type === 'boolean') return typeof v !== 'boolean';
  if (type === 'null') return v !== null;
  if (type === 'array') return !Array.isArray(v) || (s.maxItems !== undefined && v.length > s.maxItems);
  if (type === 'object') return v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Raw;
  return false;
}

/** Paths to every field of an object value that its schema describes. */
function fieldPaths(
  s: JsonSchema,
  v: unknown,
  prefix: string[] = [],
): Array<{ path: string[]; schema: JsonSchema }> {
  const out: Array<{ path: string[]; schema: JsonSchema }> = [];
  if (typeOf(s) === 'object' && v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(s.properties ?? {})) {
      const path = [...prefix, k];
      out.push({ path, schema: child });
      out.push(...fieldPaths(child, (v as Record<string, unknown>)[k], path));
    }
  } else if (typeOf(s) === 'array' && Array.isArray(v) && s.items && v.length > 0) {
    const path = [...prefix, '0'];
    out.push({ path, schema: s.items });
    out.push(...fieldPaths(s.items, v[0], path));
  }
  return out;
}

function setAt(v: unknown, path: string[], replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(v);
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(v)) return v.map((x, i) => (String(i) === head ? setAt(x, rest, replace) : x));
  const o = { ...(v as Record<string, unknown>) };
  o[head] = setAt(o[head], rest, replace);
  return o;
}

const DROP = Symbol('drop');

function dropUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropUndefined);
  if (v && typeof v === 'object' && !(v instanceof Raw) && !(v instanceof DuplicateKeys)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== DROP)
        .map(([k, x]) => [k, dropUndefined(x)]),
    );
  }
  return v;
}

/**
 * One mutation of `valid` (a value of `s`): `mustBreak` keeps only mutations that certainly
 * make it invalid.
 */
export function mutationArbitrary(s: JsonSchema, valid: unknown, mustBreak: boolean): fc.Arbitrary<Mutated> {
  const fields = fieldPaths(s, valid);
  const options: Array<fc.Arbitrary<Mutated>> = [
    wrongType.map((w) => ({ value: w, note: 'whole value replaced', invalid: certainlyInvalid(s, w) })),
  ];
  if (fields.length > 0) {
    const field = fc.constantFrom(...fields);
    options.push(
      fc.tuple(field, hostileValue).map(([f, h]) => ({
        value: setAt(valid, f.path, () => h),
        note: `${f.path.join('.')} ← hostile`,
        invalid: certainlyInvalid(f.schema, h),
      })),
    );
    const required = fields.filter((f) => {
      const parent = f.path.length === 1 ? s : undefined;
      return parent?.required?.includes(f.path[0] as string);
    });
    if (required.length > 0) {
      options.push(
        fc.constantFrom(...required).map((f) => ({
          value: dropUndefined(setAt(valid, f.path, () => DROP)),
          note: `${f.path.join('.')} dropped`,
          invalid: true,
        })),
      );
    }
    const top = fields.filter((f) => f.path.length === 1);
    if (top.length > 0 && typeOf(s) === 'object') {
      options.push(
        fc.tuple(fc.constantFrom(...top), wrongType, fc.boolean()).map(([f, w, lastWins]) => {
          const key = f.path[0] as string;
          const own = (valid as Record<string, unknown>)[key];
          const rest = Object.entries(valid as Record<string, unknown>).filter(([k]) => k !== key);
          const pair: Array<[string, unknown]> = lastWins
            ? [
                [key, own ?? null],
                [key, w],
              ]
            : [
                [key, w],
                [key, own ?? null],
              ];
          // JSON.parse keeps the last occurrence: that is the value the service sees.
          const invalid = certainlyInvalid(f.schema, lastWins ? w : (own ?? null));
          return { value: new DuplicateKeys([...rest, ...pair]), note: `${key} repeated`, invalid };
        }),
      );
    }
  }
  const all = fc.oneof(...options);
  return mustBreak ? all.filter((m) => m.invalid) : all;
}
