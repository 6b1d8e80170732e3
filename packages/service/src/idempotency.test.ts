import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { InternalTokenSigner, InternalTokenVerifier } from './internal-token.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

const secret = 'an-internal-token-secret-of-32-bytes!';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();
const createOrder = endpoint({
  method: 'POST',
  path: '/orders',
  body: z.object({ sku: z.string(), qty: z.number().int().positive() }),
  response: z.object({ id: z.number(), sku: z.string() }),
  status: 201,
});

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

async function start(opts: { failFirst?: boolean; gate?: Promise<void>; auth?: boolean } = {}) {
  let calls = 0;
  let failures = opts.failFirst ? 1 : 0;
  const service = createService({
    name: 'orders',
    logger: { level: 'silent' },
    internalAuth: opts.auth
      ? { mode: 'optional', verifier: new InternalTokenVerifier({ key: secret }) }
      : undefined,
    routes: [
      route(createOrder, async ({ body, ctx }) => {
        calls++;
        await opts.gate;
        if (failures > 0) {
          failures--;
          throw new Error('database unavailable');
        }
        ctx.setHeader('location', `/orders/${calls}`);
        return { id: calls, sku: body.sku };
      }),
    ],
  });
  services.push(service);
  const url = await service.listen({ port: 0, signals: false });
  return { url, calls: () => calls };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('Idempotency-Key', () => {
  it('replays the stored response to a retried POST instead of acting twice', async () => {
    const s = await start();
    const first = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(201);
    const firstBody = await first.text();
    const again = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-1' });
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(firstBody);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe('/orders/1');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(s.calls()).toBe(1);
    // Without a key every POST acts.
    await post(s.url, { sku: 'a', qty: 1 });
    expect(s.calls()).toBe(2);
  });

  it('refuses the same key with a different body (422) and a concurrent duplicate (409 + Retry-After)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const s = await start({ gate });
    const pending = post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-2' });
    while (s.calls() === 0) await new Promise((r) => setTimeout(r, 2));
    const dup = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-2' });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('retry-after')).toBe('1');
    expect((await json(dup)).error.code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
    open();
    expect((await pending).status).toBe(201);
    const other = await post(s.url, { sku: 'b', qty: 1 }, { 'idempotency-key': 'key-2' });
    expect(other.status).toBe(422);
    expect((await json(other)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(s.calls()).toBe(1);
  });

  it('treats the same body in another key order as the same request (a body stored and reloaded)', async () => {
    const s = await start();
    const first = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-order' });
    const reordered = await post(s.url, { qty: 1, sku: 'a' }, { 'idempotency-key': 'key-order' });
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(await reordered.text()).toBe(await first.text());
    expect(s.calls()).toBe(1);
  });

  it('does not store a 5xx: the retry runs again and succeeds', async () => {
    const s = await start({ failFirst: true });
    const first = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-3' });
    expect(first.status).toBe(500);
    const retry = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'key-3' });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(s.calls()).toBe(2);
  });

  it('does not store a validation failure: the corrected request with the same key runs', async () => {
    const s = await start();
    const bad = await post(s.url, { sku: 'a', qty: 0 }, { 'idempotency-key': 'key-4' });
    expect(bad.status).toBe(400);
    expect(s.calls()).toBe(0);
    // A different body with the same key would be refused as reuse if the 400 had been stored.
    const good = await post(s.url, { sku: 'a', qty: 2 }, { 'idempotency-key': 'key-4' });
    expect(good.status).toBe(201);
  });

  it('rejects a malformed key with 400 naming the header', async () => {
    const s = await start();
    const res = await post(s.url, { sku: 'a', qty: 1 }, { 'idempotency-key': 'x'.repeat(300) });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details.issues[0].path).toBe('headers.idempotency-key');
    expect(s.calls()).toBe(0);
  });

  it("scopes keys by caller: another user with the same key does not get the first user's response", async () => {
    const s = await start({ auth: true });
    const signer = new InternalTokenSigner({ key: secret });
    const alice = await signer.sign({ subject: 'alice', kind: 'user', scopes: [], roles: [] });
    const bob = await signer.sign({ subject: 'bob', kind: 'user', scopes: [], roles: [] });
    const a = await post(
      s.url,
      { sku: 'a', qty: 1 },
      { 'idempotency-key': 'same', 'x-trellis-identity': alice },
    );
    const b = await post(
      s.url,
      { sku: 'a', qty: 1 },
      { 'idempotency-key': 'same', 'x-trellis-identity': bob },
    );
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(s.calls()).toBe(2);
  });
});
