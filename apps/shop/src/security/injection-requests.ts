/**
 * Where an injection payload can go in a request to a public route, enumerated from the
 * route's schemas (every path parameter, every query parameter, every string field of the
 * body at any depth, array items included), and the request with the payload placed at one of
 * those spots while everything else stays as a careful client would send it. The payload is
 * the only thing wrong with such a request, so if the shop refuses it, it was the payload it
 * refused; if it accepts it, the payload reached the handler and, behind it, SQL.
 */
import { encodeParam, toJsonText } from './hostile-values.js';
import { fillPath, type RawRequest } from './raw-http.js';
import type { PublicRoute } from './route-catalog.js';
import { fieldsOf, type JsonSchema, jsonSchemaOf, typeOf } from './schema-arbitrary.js';

/** One spot of a request. */
export interface InjectionTarget {
  where: 'path' | 'query' | 'body';
  /** Parameter name, or the body field's path (`shippingAddress.city`, `items.0.productId`). */
  field: string;
}

/** A request with nothing wrong in it, to place payloads into. */
export interface BaseRequest {
  params: Record<string, string>;
  query: ReadonlyArray<readonly [string, string]>;
  body?: unknown;
}

/** The string fields of a body schema, at any depth (an array's items as index 0). */
export function stringFields(s: JsonSchema | undefined, prefix: string[] = []): string[] {
  if (!s) return [];
  const union = s.anyOf ?? s.oneOf;
  if (union) return [...new Set(union.flatMap((u) => stringFields(u, prefix)))];
  const type = typeOf(s);
  if (type === 'string' || s.enum?.every((v) => typeof v === 'string')) return [prefix.join('.')];
  if (type === 'object')
    return Object.entries(s.properties ?? {}).flatMap(([k, v]) => stringFields(v, [...prefix, k]));
  if (type === 'array' && s.items) return stringFields(s.items, [...prefix, '0']);
  return [];
}

/** Every spot of `route` a payload can go: path and query parameters, and string body fields. */
export function injectionTargets(route: PublicRoute): InjectionTarget[] {
  const { params, query, body } = route.endpoint;
  return [
    ...fieldsOf(params && jsonSchemaOf(params)).map(([field]) => ({ where: 'path' as const, field })),
    ...fieldsOf(query && jsonSchemaOf(query)).map(([field]) => ({ where: 'query' as const, field })),
    ...stringFields(body && jsonSchemaOf(body)).map((field) => ({ where: 'body' as const, field })),
  ];
}

/** `value` with the field at `path` set to `text` (objects and arrays along the way created). */
export function placeAt(value: unknown, path: readonly string[], text: string): unknown {
  if (path.length === 0) return text;
  const [head, ...rest] = path as [string, ...string[]];
  if (/^\d+$/.test(head)) {
    const list = Array.isArray(value) ? [...value] : [];
    list[Number(head)] = placeAt(list[Number(head)], rest, text);
    return list;
  }
  const object = value && typeof value === 'object' ? { ...(value as Record<string, unknown>) } : {};
  object[head] = placeAt(object[head], rest, text);
  return object;
}

/** Reads the field at `path` of `value` (undefined when absent). */
export function valueAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** The request for `route`: `base` with `text` at `target` (no target: the base itself). */
export function injectionRequest(
  route: PublicRoute,
  base: BaseRequest,
  target?: InjectionTarget,
  text = '',
): RawRequest {
  const params = { ...base.params };
  let query = [...base.query];
  let body = base.body;
  if (target?.where === 'path') params[target.field] = text;
  if (target?.where === 'query') query = [...query.filter(([k]) => k !== target.field), [target.field, text]];
  if (target?.where === 'body') body = placeAt(body, target.field.split('.'), text);
  const encoded = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeParam(v)]));
  const qs = query.length ? `?${query.map(([k, v]) => `${encodeParam(k)}=${encodeParam(v)}`).join('&')}` : '';
  return {
    method: route.method,
    path: `${fillPath(route.path, encoded)}${qs}`,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: toJsonText(body) } : {}),
  };
}
