/**
 * Whole HTTP requests for one public route, generated from the route's schemas: path
 * parameters, query string, JSON body (well-formed, or mutated by `body-mutations.ts`), content
 * type, an `Idempotency-Key`, and the caller's role. Every request knows whether the shop must
 * refuse it (`invalid`): the fuzzer checks those got a 4xx and wrote nothing.
 */
import fc from 'fast-check';
import { mutationArbitrary } from './body-mutations.js';
import { deepArray, encodeParam, hostileParam, isMalformedText, toJsonText } from './hostile-values.js';
import { fillPath } from './raw-http.js';
import type { PublicRoute } from './route-catalog.js';
import {
  asParam,
  fieldsOf,
  type Hints,
  type JsonSchema,
  jsonSchemaOf,
  typeOf,
  validArbitrary,
} from './schema-arbitrary.js';

/** Who sends a request. */
export type Role = 'anonymous' | 'customer' | 'admin';

/** One generated request. */
export interface FuzzRequest {
  key: string;
  /** The service behind the route (`console` for the ops API). */
  upstream: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  role: Role;
  /** The shop must refuse it (4xx) and write nothing. */
  invalid: boolean;
  notes: string[];
}

/** Whether a query or path text certainly fails `s` (query values are coerced from text). */
export function textInvalid(s: JsonSchema, text: string, where: 'query' | 'path'): boolean {
  // The gateway refuses these paths; lone surrogates are undecodable percent-escapes there.
  if (where === 'path' && (/[/\\%]/.test(text) || text === '.' || text === '..' || isMalformedText(text)))
    return true;
  // A query value with an undecodable escape (a lone surrogate's bytes) is kept as the literal
  // percent-encoded text, NUL escapes in it included: harmless ASCII, so it may pass.
  if (isMalformedText(text.replaceAll('\u0000', ''))) return false;
  if (text.includes('\u0000')) return true;
  const type = typeOf(s);
  if (type === 'integer' || type === 'number') {
    const n = Number(text);
    if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return true;
    return (s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum);
  }
  if (s.enum) return !s.enum.includes(text);
  if (type === 'string') {
    if (s.maxLength !== undefined && text.trim().length > s.maxLength) return true;
    return Boolean(s.pattern && text === text.trim() && !new RegExp(s.pattern).test(text));
  }
  return false;
}

function fieldValue(name: string, s: JsonSchema, hints: Hints, where: 'query' | 'path') {
  const valid = (hints[name] ?? validArbitrary(s, 1, hints)).map(asParam);
  return fc
    .oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: hostileParam })
    .map((text) => ({ name, text, invalid: textInvalid(s, text, where) }));
}

const CONTENT = fc.constantFrom(
  { type: 'application/json', kind: 'json' },
  { type: 'application/json', kind: 'json' },
  { type: 'application/json', kind: 'json' },
  { type: 'application/json; charset=utf-8', kind: 'json' },
  { type: 'text/plain', kind: 'json' },
  { type: 'application/json', kind: 'truncated' },
  { type: 'application/json', kind: 'proto' },
  { type: 'application/x-www-form-urlencoded', kind: 'form' },
  { type: 'multipart/form-data; boundary=x', kind: 'form' },
  { type: 'application/json', kind: 'deep' },
);

function bodyArbitrary(route: PublicRoute, hints: Hints, mustBreak: boolean) {
  const schema = route.endpoint.body ? jsonSchemaOf(route.endpoint.body) : undefined;
  if (!schema) return fc.constant(undefined);
  return fc
    .tuple(
      validArbitrary(schema, 0, hints).chain((v) =>
        mutationArbitrary(schema, v, false).map((m) => [v, m] as const),
      ),
      fc.nat(4),
      CONTENT,
    )
    .map(([[valid, mutated], pick, content]) => {
      const useMutation = mustBreak || pick < 2;
      const value = useMutation ? mutated.value : valid;
      const json = toJsonText(value);
      const note = useMutation ? mutated.note : 'valid body';
      switch (content.kind) {
        case 'truncated':
          return {
            text: json.slice(0, Math.max(1, json.length - 2)),
            type: content.type,
            invalid: true,
            note: 'truncated JSON',
          };
        case 'proto':
          return {
            text: `{"__proto__":{"role":"admin"},"x":${json}}`,
            type: content.type,
            invalid: true,
            note: '__proto__',
          };
        case 'form':
          return { text: 'a=1&b=2', type: content.type, invalid: true, note: content.type };
        case 'deep':
          return {
            text: toJsonText(deepArray(20_000)),
            type: content.type,
            invalid: true,
            note: 'deep nesting',
          };
        default:
          return {
            text: json,
            type: content.type,
            invalid: content.type === 'application/json' && useMutation && mutated.invalid,
            note: `${note} as ${content.type}`,
          };
      }
    });
}

const ROLES: Record<'public' | 'required' | 'admin', fc.Arbitrary<Role>> = {
  public: fc.constantFrom<Role>('anonymous', 'anonymous', 'customer', 'admin'),
  required: fc.constantFrom<Role>('customer', 'customer', 'customer', 'admin', 'anonymous'),
  admin: fc.constantFrom<Role>('admin', 'admin', 'admin', 'customer', 'anonymous'),
};

/** Whether the gateway lets `role` through `route` at all. */
export function gatewayAdmits(route: PublicRoute, role: Role): boolean {
  if (route.gatewayAuth === 'public') return true;
  if (role === 'anonymous') return false;
  return route.gatewayAuth === 'required' || role === 'admin';
}

/**
 * Whether `route` has anything a request can get wrong: a caller it does not admit, a path
 * parameter, a query field or a body. A public route with none of these (`GET /api/categories`)
 * accepts every request, so asking for one it must refuse would never end.
 */
export function canBreak(route: PublicRoute): boolean {
  const query = fieldsOf(route.endpoint.query && jsonSchemaOf(route.endpoint.query));
  return (
    route.gatewayAuth !== 'public' ||
    Boolean(route.endpoint.body || route.endpoint.params) ||
    query.length > 0
  );
}

/**
 * Requests for `route`. With `mustBreak` (only for routes that {@link canBreak}), only requests the shop must refuse (a broken part, or
 * a caller the route does not admit).
 */
export function fuzzRequestArbitrary(
  route: PublicRoute,
  hints: Hints,
  mustBreak: boolean,
): fc.Arbitrary<FuzzRequest> {
  if (mustBreak && !canBreak(route)) throw new Error(`${route.key} accepts every request: nothing to break`);
  const params = fieldsOf(route.endpoint.params && jsonSchemaOf(route.endpoint.params));
  const query = fieldsOf(route.endpoint.query && jsonSchemaOf(route.endpoint.query));
  const auth =
    route.gatewayAuth === 'public' || route.gatewayAuth === 'required' ? route.gatewayAuth : 'admin';
  const paramArb = fc.tuple(...params.map(([n, s]) => fieldValue(n, s, hints, 'path')));
  const queryArb = fc.tuple(
    fc.subarray(query.map(([n, s]) => fieldValue(n, s, hints, 'query'))).chain((fs) => fc.tuple(...fs)),
    fc.option(fc.constantFrom(...(query.length ? query.map(([n]) => n) : ['x'])), { freq: 4 }),
    fc.option(fc.constantFrom('__proto__', 'constructor', 'unknown', 'a[b]'), { freq: 4 }),
  );
  const request = fc.record({
    params: paramArb,
    query: queryArb,
    body: bodyArbitrary(route, hints, false),
    role: ROLES[auth],
    idempotencyKey: fc.option(
      fc.oneof(fc.uuid(), fc.constantFrom("k'; DROP TABLE x;--", 'x'.repeat(300), ' ')),
      {
        freq: 3,
      },
    ),
  });
  const built = request.map(({ params: ps, query: [qs, repeated, extra], body, role, idempotencyKey }) => {
    const notes: string[] = [];
    let invalid = !gatewayAdmits(route, role);
    if (invalid) notes.push(`${role} not admitted`);
    const pathValues: Record<string, string> = {};
    for (const p of ps) {
      pathValues[p.name] = encodeParam(p.text);
      if (p.invalid) notes.push(`path ${p.name} broken`);
      invalid ||= p.invalid;
    }
    const pairs: Array<[string, string]> = [];
    for (const q of qs) {
      pairs.push([q.name, q.text]);
      if (q.invalid) notes.push(`query ${q.name} broken`);
      invalid ||= q.invalid;
    }
    if (repeated !== null && query.some(([n]) => n === repeated)) {
      pairs.push([repeated, '1'], [repeated, '2']);
      notes.push(`query ${repeated} repeated`);
      invalid = true;
    }
    if (extra !== null) pairs.push([extra, 'x']);
    const headers: Record<string, string> = {};
    if (body) {
      headers['content-type'] = body.type;
      notes.push(body.note);
      invalid ||= body.invalid;
    }
    if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
    const qstring = pairs.length
      ? `?${pairs.map(([k, v]) => `${encodeParam(k)}=${encodeParam(v)}`).join('&')}`
      : '';
    return {
      key: route.key,
      upstream: route.upstream,
      method: route.method,
      path: `${fillPath(route.path, pathValues)}${qstring}`,
      headers,
      ...(body ? { body: body.text } : {}),
      role,
      invalid,
      notes,
    };
  });
  if (!mustBreak) return built;
  // Force a broken body where there is one, so refusals of every kind are exercised.
  return fc
    .tuple(built, bodyArbitrary(route, hints, true))
    .map(([r, broken]) =>
      broken && !r.invalid
        ? {
            ...r,
            body: broken.text,
            headers: { ...r.headers, 'content-type': broken.type },
            invalid: broken.invalid,
            notes: [...r.notes, broken.note],
          }
        : r,
    )
    .filter((r) => r.invalid);
}
