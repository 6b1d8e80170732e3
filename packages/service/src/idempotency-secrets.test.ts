/**
 * What the idempotency store learns about a request: with a fingerprint key, nothing a guess
 * can be tested against; from an endpoint that opts out (a log-in), nothing at all.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import type { IdempotencyOptions } from './idempotency.js';
import { type AcquireResult, MemoryIdempotencyStore, type StoredResponse } from './idempotency-store.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

/** A memory store that remembers every fingerprint and response it was given. */
class RecordingStore extends MemoryIdempotencyStore {
  readonly fingerprints: string[] = [];
  readonly responses: StoredResponse[] = [];
  override acquire(key: string, fingerprint: string, lockMs: number): Promise<AcquireResult> {
    this.fingerprints.push(fingerprint);
    return super.acquire(key, fingerprint, lockMs);
  }
  override complete(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    this.responses.push(response);
    return super.complete(key, response, ttlMs);
  }
}

const login = endpoint({
  method: 'POST',
  path: '/login',
  body: z.object({ email: z.string(), password: z.string() }),
  response: z.object({ token: z.string() }),
  idempotencyKeys: false,
});
const saveCard = endpoint({
  method: 'POST',
  path: '/cards',
  body: z.object({ number: z.string() }),
  response: z.object({ last4: z.string() }),
  status: 201,
});

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

async function start(idempotency: IdempotencyOptions) {
  let logins = 0;
  const service = createService({
    name: 'users',
    logger: { level: 'silent' },
    idempotency,
    routes: [
      route(login, () => ({ token: `session-token-${++logins}` })),
      route(saveCard, ({ body }) => ({ last4: body.number.slice(-4) })),
    ],
  });
  services.push(service);
  const url = await service.listen({ port: 0, signals: false });
  const post = (path: string, body: unknown, key: string) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  return { post, logins: () => logins };
}

const card = { number: '4242424242424242' };
const plainFingerprint = createHash('sha256')
  .update(`POST /cards\n${JSON.stringify(card)}`)
  .digest('base64url');

describe('idempotency and secrets in request bodies', () => {
  it('without a key, the stored fingerprint is a plain hash a guess can be checked against', async () => {
    const store = new RecordingStore();
    const { post } = await start({ store });
    expect((await post('/cards', card, 'k1')).status).toBe(201);
    expect(store.fingerprints).toEqual([plainFingerprint]);
  });

  it('with a fingerprint key, it is an HMAC: not the plain hash, stable across instances sharing the key', async () => {
    const store = new RecordingStore();
    const first = await start({ store, fingerprintKey: 'fingerprint-secret-of-the-installation' });
    expect((await first.post('/cards', card, 'k1')).status).toBe(201);
    const [print] = store.fingerprints;
    expect(print).not.toBe(plainFingerprint);
    // A second instance with the same key and store replays (the same request is recognised)…
    const second = await start({ store, fingerprintKey: 'fingerprint-secret-of-the-installation' });
    const replay = await second.post('/cards', card, 'k1');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    // …and one with another key cannot recognise it (so neither can anyone without the key).
    const stranger = await start({ store, fingerprintKey: 'another-secret' });
    expect((await stranger.post('/cards', card, 'k1')).status).toBe(422);
  });

  it('an endpoint that opts out never stores its answer (a session token) nor its request', async () => {
    const store = new RecordingStore();
    const { post, logins } = await start({ store });
    const body = { email: 'ada@example.com', password: 'correct horse battery staple' };
    const a = await post('/login', body, 'same-key');
    const b = await post('/login', body, 'same-key');
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(logins()).toBe(2);
    expect(store.fingerprints).toEqual([]);
    expect(store.responses).toEqual([]);
  });
});
