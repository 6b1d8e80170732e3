/**
 * The headers of the request sent upstream: the client's (minus everything hop-by-hop or
 * gateway-owned, see `copyRequestHeaders`), then the forwarding chain, request and correlation
 * ids, trace context, deadline, body length and the plain identity headers.
 */
import type { IncomingMessage } from 'node:http';
import { validId } from '@trellis/service';
import type { Authenticated } from './authenticator.js';
import type { GatewayConfig } from './config.js';
import { childTraceparent, copyRequestHeaders } from './forward-headers.js';

/** Per-request inputs of {@link upstreamHeaders}. */
export interface UpstreamHeaderInput {
  requestId: string;
  /** Client address as Fastify derived it (through trusted proxies only). */
  ip: string;
  proto: string;
  auth: Authenticated | undefined;
  body: Buffer | null;
  /** The route's time budget (ms). */
  timeoutMs: number;
}

/** Builds the flat `[name, value, …]` header list for the upstream request. */
export function upstreamHeaders(
  req: IncomingMessage,
  config: GatewayConfig,
  o: UpstreamHeaderInput,
): string[] {
  const h = req.headers;
  const idc = config.identity;
  const out: string[] = [];
  copyRequestHeaders(req.rawHeaders, out, idc.forwardAuthorization);
  const xff = h['x-forwarded-for'];
  const socketIp = req.socket.remoteAddress ?? o.ip;
  // Fastify derived `ip` through the trusted proxies only: when it differs from the peer, the
  // peer is a trusted proxy and its X-Forwarded-For chain is kept; otherwise it is replaced.
  const trusted = config.trustProxy === true || (config.trustProxy !== false && o.ip !== socketIp);
  out.push(
    'x-forwarded-for',
    trusted && typeof xff === 'string' ? `${xff}, ${socketIp}` : socketIp,
    'x-forwarded-proto',
    o.proto,
    'x-forwarded-host',
    h.host ?? '',
    'x-request-id',
    o.requestId,
    'x-correlation-id',
    validId(h['x-correlation-id']) ?? o.requestId,
    'traceparent',
    childTraceparent(h.traceparent),
    'x-trellis-deadline-ms',
    String(deadlineMs(h['x-trellis-deadline-ms'], o.timeoutMs)),
  );
  if (o.body) out.push('content-length', String(o.body.length));
  if (o.auth && idc.plainHeaders) {
    o.auth.plainHeaders ??= plainIdentityHeaders(o.auth);
    for (const v of o.auth.plainHeaders) out.push(v);
  }
  return out;
}

/** A client may shorten the time budget, never extend it. */
export function deadlineMs(incoming: string | string[] | undefined, routeMs: number): number {
  if (typeof incoming === 'string' && /^\d{1,9}$/.test(incoming)) return Math.min(Number(incoming), routeMs);
  return routeMs;
}

function plainIdentityHeaders(auth: Authenticated): string[] {
  const id = auth.identity;
  const h = [
    'x-user-id',
    id.subject,
    'x-user-kind',
    id.kind,
    'x-user-scopes',
    id.scopes.join(' '),
    'x-user-roles',
    id.roles.join(','),
  ];
  if (id.tenant) h.push('x-user-tenant', id.tenant);
  return h;
}

/** The parent span id of a valid incoming `traceparent`. */
export function parentSpanOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = /^00-[0-9a-f]{32}-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent);
  return m?.[1];
}
