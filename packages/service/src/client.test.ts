import { isNotFoundError, isValidationError, NotFoundError } from '@trellis/core';
import { isCircuitBreakerOpenError, isTimeoutError } from '@trellis/resilience';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createClient } from './client.js';
import { endpoint } from './endpoint.js';
import { isRemoteError, isUpstreamError, ServiceUnavailableError } from './errors.js';
import { route } from './route.js';
import { createService } from './service.js';

const Item = z.object({ sku: z.string(), stock: z.number() });
const getItem = endpoint({
  method: 'GET',
  path: '/items/:sku',
  params: z.object({ sku: z.string().min(2) }),
  response: Item,
});
const reserve = endpoint({
  method: 'POST',
  path: '/items/:sku/reservations',
  params: z.object({ sku: z.string() }),
  body: z.object({ qty: z.number().int().positive() }),
  response: z.object({ reserved: z.number() }),
  status: 201,
});
const listItems = endpoint({
  method: 'GET',
  path: '/items',
  query: z.object({ tag: z.string().optional() }),
  response: z.array(Item),
});

const stop: Array<{ shutdown(): Promise<unknown> } | { close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const s of stop.splice(0).reverse()) await ('shutdown' in s ? s.shutdown() : s.close());
});

/** An inventory service whose failures are scripted per call. */
async function inventory(script: Array<'ok' | '503' | 'hang' | 'bad'> = []) {
  const calls: Array<{ method: string; headers: Record<string, string | string[] | undefined> }> = [];
  const next = () => script.shift() ?? 'ok';
  const behave = async (what: string) => {
    if (what === '503') throw new ServiceUnavailableError('busy', 0);
    if (what === 'hang') await new Promise((r) => setTimeout(r, 5_000));
  };
  const service = createService({
    name: 'inventory',
    logger: { level: 'silent' },
    // The upstream sends what handlers return, so the client's own response check is exercised.
    validateResponses: false,
    routes: [
      route(getItem, async ({ params, ctx }) => {
        const what = next();
        await behave(what);
        if (params.sku === 'zz') throw new NotFoundError(`No item ${params.sku}`);
        if (what === 'bad') return { sku: params.sku, stock: 'many' } as never;
        return { sku: params.sku, stock: 3, via: ctx.requestId };
      }),
      route(reserve, async ({ body }) => {
        await behave(next());
        return { reserved: body.qty };
      }),
      route(listItems, ({ query }) => [{ sku: query.tag ?? 'none', stock: 1 }]),
    ],
  });
  service.app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/items'))
      calls.push({ method: request.method, headers: { ...request.headers } });
  });
  stop.push(service);
  const url = await service.listen({ port: 0, signals: false });
  return { url, calls };
}

function client(url: string, extra: Partial<Parameters<typeof createClient>[0]> = {}) {
  const c = createClient({
    name: 'inventory',
    baseUrl: url,
    endpoints: { getItem, reserve, listItems },
    retry: { maxAttempts: 3, backoff: { initialDelay: 0, maxDelay: 0 } },
    ...extra,
  });
  stop.push(c);
  return c;
}

describe('typed service client', () => {
  it('calls endpoints with typed input and parses the typed response', async () => {
    const inv = await inventory();
    const c = client(inv.url);
    const item = await c.getItem({ params: { sku: 'ab' } });
    expect(item).toEqual({ sku: 'ab', stock: 3 });
    expect(await c.listItems({ query: { tag: 'red' } })).toEqual([{ sku: 'red', stock: 1 }]);
    expect(await c.listItems()).toEqual([{ sku: 'none', stock: 1 }]);
    expect(await c.reserve({ params: { sku: 'ab' }, body: { qty: 2 } })).toEqual({ reserved: 2 });
  });

  it('rejects bad input before sending anything', async () => {
    const inv = await inventory();
    const c = client(inv.url);
    const error = await c.getItem({ params: { sku: 'a' } }).catch((e: unknown) => e);
    expect(isValidationError(error)).toBe(true);
    expect(inv.calls).toHaveLength(0);
  });

  it('turns a typed 4xx into a RemoteError with the upstream code, without retrying', async () => {
    const inv = await inventory();
    const c = client(inv.url);
    const error = await c.getItem({ params: { sku: 'zz' } }).catch((e: unknown) => e);
    expect(isRemoteError(error)).toBe(true);
    expect(isNotFoundError(error)).toBe(true);
    expect(error).toMatchObject({ status: 404, message: 'No item zz', upstream: 'inventory' });
    expect(inv.calls).toHaveLength(1);
  });

  it('retries an idempotent GET on 5xx and succeeds', async () => {
    const inv = await inventory(['503', '503', 'ok']);
    const c = client(inv.url);
    expect(await c.getItem({ params: { sku: 'ab' } })).toEqual({ sku: 'ab', stock: 3 });
    expect(inv.calls).toHaveLength(3);
  });

  it('never retries a POST without an Idempotency-Key; retries it with one, sending the key', async () => {
    const inv = await inventory(['503', '503']);
    const c = client(inv.url);
    const error = await c.reserve({ params: { sku: 'ab' }, body: { qty: 1 } }).catch((e: unknown) => e);
    expect(isUpstreamError(error)).toBe(true);
    expect(inv.calls).toHaveLength(1);
    const ok = await c.reserve({ params: { sku: 'ab' }, body: { qty: 1 } }, { idempotencyKey: 'r-1' });
    expect(ok).toEqual({ reserved: 1 });
    expect(inv.calls).toHaveLength(3);
    expect(inv.calls[2]?.headers['idempotency-key']).toBe('r-1');
  });

  it('opens its breaker after repeated failures and then fails fast without calling the upstream', async () => {
    const inv = await inventory(['503', '503', '503', '503', '503', '503']);
    const c = client(inv.url, { retry: false, breaker: { failureThreshold: 3, timeout: 60_000 } });
    for (let i = 0; i < 3; i++)
      await expect(c.getItem({ params: { sku: 'ab' } })).rejects.toMatchObject({ status: 502 });
    const error = await c.getItem({ params: { sku: 'ab' } }).catch((e: unknown) => e);
    expect(isCircuitBreakerOpenError(error)).toBe(true);
    expect(inv.calls).toHaveLength(3);
    expect(c.breaker?.state).toBe('OPEN');
  });

  it('does not count 4xx answers as breaker failures', async () => {
    const inv = await inventory();
    const c = client(inv.url, { retry: false, breaker: { failureThreshold: 2, timeout: 60_000 } });
    for (let i = 0; i < 4; i++)
      await expect(c.getItem({ params: { sku: 'zz' } })).rejects.toMatchObject({ status: 404 });
    expect(c.breaker?.state).toBe('CLOSED');
  });

  it('times out a hanging attempt with TimeoutError', async () => {
    const inv = await inventory(['hang']);
    const c = client(inv.url, { retry: false, timeoutMs: 100 });
    const error = await c.getItem({ params: { sku: 'ab' } }).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
  });

  it('reports a response that breaks the contract as an UpstreamError and does not retry it', async () => {
    const inv = await inventory(['bad', 'bad', 'bad']);
    const c = client(inv.url);
    const error = await c.getItem({ params: { sku: 'ab' } }).catch((e: unknown) => e);
    expect(isUpstreamError(error)).toBe(true);
    expect((error as { details: { reason: string } }).details.reason).toBe('invalid_response');
    expect(inv.calls).toHaveLength(1);
  });

  it('reports an unreachable upstream as an UpstreamError', async () => {
    const c = client('http://127.0.0.1:9', { retry: false });
    const error = await c.getItem({ params: { sku: 'ab' } }).catch((e: unknown) => e);
    expect(isUpstreamError(error)).toBe(true);
  });
});
