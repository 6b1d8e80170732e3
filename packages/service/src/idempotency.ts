/**
 * `Idempotency-Key` for unsafe methods: the first request with a key runs and its response is
 * stored; a retry with the same key and the same request gets the stored response (with
 * `Idempotent-Replayed: true`) instead of acting twice. The same key with a different request
 * is refused (422); a retry while the first is still running gets 409 with `Retry-After`.
 *
 * Keys are scoped by the caller's identity, so one user cannot replay another's response.
 */
import { createHash, createHmac } from 'node:crypto';
import { ValidationError } from '@trellis/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from './errors.js';
import type { IdempotencyStore, StoredResponse } from './idempotency-store.js';

/** The request header. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The header set on replayed responses. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** Options of the idempotency layer. */
export interface IdempotencyOptions {
  store: IdempotencyStore;
  /** How long a completed response is replayed. Default 24 h. */
  ttlMs?: number;
  /** How long a claim holds before another request may take it over (crash recovery). Default 60 s. */
  lockMs?: number;
  /**
   * Secret for the request fingerprints kept in the store (HMAC-SHA-256). Without it a
   * fingerprint is a plain SHA-256 of method, URL and body, which anyone who can read the store
   * can test guesses against (a password or card number in the body). Every instance sharing a
   * store must use the same secret.
   */
  fingerprintKey?: string | Uint8Array;
}

/** Route `config` flag (set from `EndpointDefinition.idempotencyKeys`) that ignores the header. */
export const IDEMPOTENCY_KEYS_CONFIG = 'trellisIdempotencyKeys';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Statuses meaning "nothing was done, try again": the claim is released instead of stored. */
const NOT_STORED = new Set([400, 401, 403, 404, 405, 408, 413, 415, 429]);
const SKIP_HEADERS = new Set([
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'set-cookie',
]);

/** JSON with object keys sorted: the same body re-serialised in another key order is the same request. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function fingerprint(request: FastifyRequest, key: string | Uint8Array | undefined): string {
  const h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  h.update(`${request.method} ${request.url}\n`);
  // Canonical, not as sent: a retry whose body was stored and reloaded (PostgreSQL jsonb
  // reorders keys) must still match its first attempt.
  if (request.body !== undefined) {
    let text: string;
    try {
      text = typeof request.body === 'string' ? request.body : canonicalJson(request.body);
    } catch {
      // Only a body nested beyond the stack gets here (the input checks refuse it earlier).
      throw new ValidationError('Invalid body: nested too deeply', [
        { path: '', message: 'nested too deeply' },
      ]);
    }
    h.update(text);
  }
  return h.digest('base64url');
}

/** Installs the idempotency hooks on a Fastify app (the runtime does this for every service). */
export function installIdempotency(app: FastifyInstance, service: string, options: IdempotencyOptions): void {
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const lockMs = options.lockMs ?? 60_000;
  const { store } = options;

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!UNSAFE.has(request.method)) return;
    const raw = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (raw === undefined) return;
    // Endpoints whose answers must never be stored (credentials) do not take keys.
    if (
      (request.routeOptions.config as unknown as Record<string, unknown>)[IDEMPOTENCY_KEYS_CONFIG] === false
    )
      return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (key === undefined || !KEY_PATTERN.test(key)) {
      throw new ValidationError('Invalid Idempotency-Key header: 1-255 visible ASCII characters expected', [
        { path: 'headers.idempotency-key', message: 'expected 1-255 visible ASCII characters' },
      ]);
    }
    request.trellis.idempotencyKey = key;
    // Unit separator (not NUL: PostgreSQL text columns reject 0x00); keys are visible ASCII only.
    const scoped = `${service}\u001f${request.trellis.identity?.subject ?? ''}\u001f${key}`;
    const print = fingerprint(request, options.fingerprintKey);
    const result = await store.acquire(scoped, print, lockMs);
    if (result.state === 'acquired') {
      request.trellis.idempotencyClaim = scoped;
      return;
    }
    if (result.fingerprint !== print) throw new IdempotencyKeyReusedError(key);
    if (result.state === 'in-progress') throw new IdempotencyInProgressError(key, 1000);
    const r = result.response;
    reply.code(r.status).headers(r.headers).header(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return reply.send(r.body);
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = request.trellis.idempotencyClaim;
    if (claim === undefined) return payload;
    request.trellis.idempotencyClaim = undefined;
    const status = reply.statusCode;
    if (
      status >= 500 ||
      NOT_STORED.has(status) ||
      !(typeof payload === 'string' || payload === undefined || payload === null)
    ) {
      await store.release(claim);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) {
      if (v === undefined || SKIP_HEADERS.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const stored: StoredResponse = { status, headers, body: typeof payload === 'string' ? payload : '' };
    await store.complete(claim, stored, ttlMs);
    return payload;
  });

  // A request that dies before sending (client gone, crash in a hook) must not hold the key.
  app.addHook('onResponse', async (request: FastifyRequest) => {
    const claim = request.trellis.idempotencyClaim;
    if (claim !== undefined) {
      request.trellis.idempotencyClaim = undefined;
      await store.release(claim);
    }
  });
}
