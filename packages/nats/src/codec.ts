import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import type { PreparedMessage } from '@trellis/messaging';

/**
 * Wire format: the body is the payload's JSON (readable by any NATS client); Trellis fields
 * and the message's own headers (`traceparent`, `correlationId`, …) travel as NATS headers.
 */
const ID = 'Trellis-Id';
const KEY = 'Trellis-Key';
const PUBLISHED_AT = 'Trellis-Published-At';
const RESERVED = /^(Nats-|Trellis-)/i;

/** NATS headers for a message. */
export function encodeHeaders(m: PreparedMessage): MsgHdrs {
  const h = natsHeaders();
  h.set(ID, m.id);
  h.set(PUBLISHED_AT, String(m.publishedAt));
  if (m.key !== undefined) h.set(KEY, m.key);
  for (const [name, value] of Object.entries(m.headers)) if (!RESERVED.test(name)) h.set(name, value);
  return h;
}

/** The Trellis fields and user headers of a received message. */
export function decodeHeaders(h: MsgHdrs | undefined): {
  id: string | undefined;
  key: string | undefined;
  publishedAt: number | undefined;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  if (!h) return { id: undefined, key: undefined, publishedAt: undefined, headers };
  for (const [name, values] of h) {
    if (RESERVED.test(name)) continue;
    const value = values[0];
    if (value !== undefined) headers[name] = value;
  }
  const publishedAt = h.get(PUBLISHED_AT);
  return {
    id: h.get(ID) || undefined,
    key: h.has(KEY) ? h.get(KEY) : undefined,
    publishedAt: publishedAt ? Number(publishedAt) : undefined,
    headers,
  };
}
