/**
 * Headers on the way through. Toward the upstream: hop-by-hop headers (and any the client
 * names in `Connection`) are dropped, identity and forwarding headers a client could forge are
 * dropped and set by the gateway, and the request id, trace context and deadline are set.
 * Toward the client: hop-by-hop headers are dropped.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Never forwarded in either direction (RFC 9110 §7.6.1), plus `host` (set per instance). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'host',
  'content-length',
  'expect',
]);

/** Set only by the gateway: a client sending them is ignored. */
const GATEWAY_OWNED = new Set([
  'x-trellis-identity',
  'x-api-key',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'forwarded',
  'x-real-ip',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
  'x-trellis-deadline-ms',
]);

/**
 * Copies the client's headers (flat `[name, value, …]` as Node received them) into `out`,
 * dropping hop-by-hop, gateway-owned and `x-user-*` headers, and `authorization` unless kept.
 */
export function copyRequestHeaders(raw: readonly string[], out: string[], keepAuthorization: boolean): void {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === 'connection') {
      // Headers the client lists in Connection are hop-by-hop too (and a way to strip ours).
      for (const token of (raw[i + 1] as string).split(',')) {
        const t = token.trim().toLowerCase();
        if (!t) continue;
        named ??= new Set();
        named.add(t);
      }
    }
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || name.startsWith('x-user-')) continue;
    if (name === 'authorization' && !keepAuthorization) continue;
    if (named?.has(name)) continue;
    out.push(name, raw[i + 1] as string);
  }
}

const RESPONSE_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * The client-bound headers as a flat `[name, value, …]` list: the upstream's without its
 * hop-by-hop headers, then `extra` (request id, rate limit, CORS). A flat list avoids `delete`
 * on the parsed object, which would slow every later read of it.
 */
export function responseHeaders(
  headers: IncomingHttpHeaders,
  extra: Record<string, string> | undefined,
): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (RESPONSE_HOP_BY_HOP.has(name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(name, v);
    else for (const item of v) out.push(name, item);
  }
  if (extra) for (const name in extra) out.push(name, extra[name] as string);
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** 8 random lower-case hex digits. */
function hex8(): string {
  return ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
}

/** Random lower-case hex, a multiple of 8 digits (trace and span ids: not secrets, so Math.random). */
export function randomHex(length: 16 | 32): string {
  return length === 16 ? hex8() + hex8() : hex8() + hex8() + hex8() + hex8();
}

/**
 * The `traceparent` to send upstream: a child of a valid incoming one (same trace, new parent
 * id, same flags), or the start of a new sampled trace.
 */
export function childTraceparent(incoming: string | string[] | undefined): string {
  if (typeof incoming === 'string') {
    const m = TRACEPARENT.exec(incoming);
    if (m && m[1] !== '00000000000000000000000000000000' && m[2] !== '0000000000000000') {
      return `00-${m[1]}-${randomHex(16)}-${m[3]}`;
    }
  }
  return `00-${randomHex(32)}-${randomHex(16)}-01`;
}
