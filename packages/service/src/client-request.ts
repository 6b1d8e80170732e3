/** Building a typed client's request: input checks, path and query (internal). */
import { ValidationError } from '@trellis/core';
import type { EndpointDefinition } from './endpoint.js';

/**
 * Checks the call's input against the endpoint's schemas before anything is sent.
 * Throws `ValidationError` naming the part and field.
 */
export function checkInput(
  e: EndpointDefinition,
  input: { params?: unknown; query?: unknown; headers?: unknown; body?: unknown },
): void {
  const parts = [
    ['params', e.params, input.params],
    ['query', e.query, input.query],
    ['headers', e.headers, input.headers],
    ['body', e.body, input.body],
  ] as const;
  for (const [what, schema, value] of parts) {
    if (!schema) continue;
    const r = schema.safeParse(value ?? (what === 'body' ? undefined : {}));
    if (!r.success) throw ValidationError.fromZod(r.error, what);
  }
}

/** `/users/:id` with `{ id: 'a b' }` → `/users/a%20b`. Throws `ValidationError` for a missing param. */
export function buildPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === null) {
      throw new ValidationError(`Missing path parameter "${name}"`, [
        { path: `params.${name}`, message: 'Required' },
      ]);
    }
    return encodeURIComponent(String(v));
  });
}

/** `?a=1&b=x&b=y` from an object (arrays repeat the key; undefined is skipped). */
export function buildQuery(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) q.append(k, String(item));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
