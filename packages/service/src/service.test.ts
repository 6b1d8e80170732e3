import { ConflictError, ManualClock, NotFoundError } from '@trellis/core';
import { CircuitBreakerOpenError, RateLimitedError } from '@trellis/resilience';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

const silent = { level: 'silent' };
// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();
const User = z.object({ id: z.string(), name: z.string() });
const getUser = endpoint({
  method: 'GET',
  path: '/users/:id',
  params: z.object({ id: z.string().regex(/^u\d+$/, 'expected u<digits>') }),
  query: z.object({ verbose: z.enum(['yes', 'no']).optional() }),
  response: User,
  errors: { 404: 'No such user' },
});
const createUser = endpoint({
  method: 'POST',
  path: '/users',
  body: z.object({ name: z.string().min(1), age: z.number().int().min(0) }),
  response: User,
  status: 201,
});

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

async function start(
  routes: Parameters<typeof createService>[0]['routes'],
  extra: Partial<Parameters<typeof createService>[0]> = {},
) {
  const service = createService({ name: 'users', logger: silent, routes, ...extra });
  services.push(service);
  const url = await service.listen({ port: 0, signals: false });
  return { service, url };
}

const users = new Map([['u1', { id: 'u1', name: 'Ada', passwordHash: 'secret' }]]);
const baseRoutes = [
  route(getUser, ({ params }) => {
    const u = users.get(params.id);
    if (!u) throw new NotFoundError(`No user ${params.id}`);
    return u;
  }),
  route(createUser, ({ body }) => {
    if (body.name === 'taken') throw new ConflictError('Name taken', { details: { name: body.name } });
    return { id: 'u2', name: body.name };
  }),
];

describe('createService', () => {
  it('parses params, runs the handler and strips fields the response schema does not declare', async () => {
    const { url } = await start(baseRoutes);
    const res = await fetch(`${url}/users/u1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await json(res)).toEqual({ id: 'u1', name: 'Ada' });
  });

  it('answers 400 naming the bad field for params, query and body', async () => {
    const { url } = await start(baseRoutes);
    const p = await fetch(`${url}/users/x1`);
    expect(p.status).toBe(400);
    const pb = await json(p);
    expect(pb.error.code).toBe('VALIDATION_FAILED');
    expect(pb.error.details.issues[0].path).toBe('id');
    expect(pb.error.message).toContain('params');

    const q = await fetch(`${url}/users/u1?verbose=maybe`);
    expect(q.status).toBe(400);
    expect((await json(q)).error.details.issues[0].path).toBe('verbose');

    const b = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', age: -1 }),
    });
    expect(b.status).toBe(400);
    const bb = await json(b);
    expect(bb.error.details.issues).toEqual([{ path: 'age', message: expect.any(String) }]);
  });

  it('maps typed errors to their status and the stable shape', async () => {
    const { url } = await start(baseRoutes);
    const nf = await fetch(`${url}/users/u9`);
    expect(nf.status).toBe(404);
    expect(await json(nf)).toEqual({ error: { code: 'NOT_FOUND', message: 'No user u9' } });

    const c = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'taken', age: 3 }),
    });
    expect(c.status).toBe(409);
    expect(await json(c)).toEqual({
      error: { code: 'CONFLICT', message: 'Name taken', details: { name: 'taken' } },
    });

    const ok = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Bob', age: 3 }),
    });
    expect(ok.status).toBe(201);
  });

  it('answers 503 with Retry-After when a breaker is open, 429 with Retry-After when rate limited', async () => {
    const open = endpoint({ method: 'GET', path: '/open' });
    const limited = endpoint({ method: 'GET', path: '/limited' });
    const { url } = await start([
      route(open, () => {
        throw new CircuitBreakerOpenError('payments', 'OPEN', 2500);
      }),
      route(limited, () => {
        throw new RateLimitedError(300, 'u1');
      }),
    ]);
    const o = await fetch(`${url}/open`);
    expect(o.status).toBe(503);
    expect(o.headers.get('retry-after')).toBe('3');
    expect((await json(o)).error.code).toBe('CIRCUIT_OPEN');
    const l = await fetch(`${url}/limited`);
    expect(l.status).toBe(429);
    expect(l.headers.get('retry-after')).toBe('1');
  });

  it('hides the message of unexpected errors behind a 500 INTERNAL_ERROR', async () => {
    const boom = endpoint({ method: 'GET', path: '/boom' });
    const { url } = await start([
      route(boom, () => {
        throw new Error('db password is hunter2');
      }),
    ]);
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
  });

  it('answers 500 RESPONSE_VALIDATION_FAILED when a handler returns the wrong shape', async () => {
    const bad = endpoint({ method: 'GET', path: '/bad', response: User });
    const { url } = await start([route(bad, () => ({ id: 1 }) as never)]);
    const res = await fetch(`${url}/bad`);
    expect(res.status).toBe(500);
    expect((await json(res)).error.code).toBe('RESPONSE_VALIDATION_FAILED');
  });

  it('answers unknown routes, malformed JSON and oversized bodies in the same error shape', async () => {
    const { url } = await start(baseRoutes, { bodyLimit: 100 });
    const nf = await fetch(`${url}/nope`);
    expect(nf.status).toBe(404);
    expect((await json(nf)).error.code).toBe('ROUTE_NOT_FOUND');
    const bad = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('BAD_REQUEST');
    const big = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(500), age: 1 }),
    });
    expect(big.status).toBe(413);
    expect((await json(big)).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('keeps a valid incoming request id, replaces a malformed one, and passes the correlation id to handlers', async () => {
    const echo = endpoint({
      method: 'GET',
      path: '/echo',
      response: z.object({ requestId: z.string(), correlationId: z.string() }),
    });
    const { url } = await start([
      route(echo, ({ ctx }) => ({ requestId: ctx.requestId, correlationId: ctx.correlationId })),
    ]);
    const a = await fetch(`${url}/echo`, {
      headers: { 'x-request-id': 'req-123', 'x-correlation-id': 'corr-9' },
    });
    expect(a.headers.get('x-request-id')).toBe('req-123');
    expect(await json(a)).toEqual({ requestId: 'req-123', correlationId: 'corr-9' });
    const b = await fetch(`${url}/echo`, { headers: { 'x-request-id': 'bad id\twith tabs' } });
    const bb = await json(b);
    expect(bb.requestId).not.toContain('bad');
    expect(bb.correlationId).toBe(bb.requestId);
  });

  it('serves liveness, and readiness that follows its checks', async () => {
    let dbUp = true;
    const { url, service } = await start(baseRoutes, { readiness: { database: () => dbUp } });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await json(ready)).toMatchObject({ status: 'ready', checks: { database: { ok: true } } });
    dbUp = false;
    const notReady = await fetch(`${url}/health/ready`);
    expect(notReady.status).toBe(503);
    expect(await json(notReady)).toMatchObject({ status: 'not_ready', checks: { database: { ok: false } } });
    dbUp = true;
    service.addReadinessCheck('bus', () => {
      throw new Error('bus disconnected');
    });
    const busDown = await json(await fetch(`${url}/health/ready`));
    expect(busDown.checks.bus).toMatchObject({ ok: false, error: 'bus disconnected' });
  });

  it('records RED metrics per route, served at /metrics', async () => {
    const { url } = await start(baseRoutes);
    await fetch(`${url}/users/u1`);
    await fetch(`${url}/users/u9`);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(
      /http_server_requests_total\{[^}]*method="GET",route="\/users\/:id",status="200"[^}]*\} 1/,
    );
    expect(text).toMatch(/http_server_requests_total\{[^}]*route="\/users\/:id",status="404"[^}]*\} 1/);
    expect(text).toContain('http_server_request_duration_seconds_bucket');
  });

  it('serves an OpenAPI document generated from the schemas', async () => {
    const { url } = await start(baseRoutes);
    const doc = await json(await fetch(`${url}/openapi.json`));
    expect(doc.openapi).toBe('3.1.0');
    const get = doc.paths['/users/{id}'].get;
    expect(get.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path', required: true }),
        expect.objectContaining({ name: 'verbose', in: 'query', required: false }),
      ]),
    );
    expect(get.responses['200'].content['application/json'].schema.properties).toHaveProperty('name');
    expect(get.responses['404'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    const post = doc.paths['/users'].post;
    expect(post.requestBody.content['application/json'].schema.required).toEqual(['name', 'age']);
    expect(post.responses).toHaveProperty('201');
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('gives handlers a signal that aborts when the deadline header runs out', async () => {
    const clock = new ManualClock(1000);
    let aborted: unknown;
    const slow = endpoint({ method: 'GET', path: '/slow' });
    const { url } = await start(
      [
        route(slow, async ({ ctx }) => {
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          aborted = ctx.signal.reason;
        }),
      ],
      { clock },
    );
    const pending = fetch(`${url}/slow`, { headers: { 'x-trellis-deadline-ms': '500' } });
    while (clock.pendingTimers() === 0) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(500);
    expect((await pending).status).toBe(204);
    expect(String(aborted)).toContain('deadline');
  });
});
