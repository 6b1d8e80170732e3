import { ManualClock } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from './config.js';
import { AUDIENCE, HS_SECRET, hsToken, ISSUER } from './fixtures/tokens.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const open: Array<Gateway | TestUpstream> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(rateLimit: GatewayConfigInput['rateLimit'], routes?: GatewayConfigInput['routes']) {
  const clock = new ManualClock(Date.now());
  const upstream = await startUpstream('svc');
  open.push(upstream);
  const gateway = createGateway({
    logger: { level: 'silent' },
    clock,
    config: {
      upstreams: { svc: { instances: [upstream.url] } },
      routes: routes ?? [{ prefix: '/', upstream: 'svc', auth: 'public' }],
      auth: { issuer: ISSUER, audience: AUDIENCE, hs256Secret: HS_SECRET },
      rateLimit,
      accessLog: false,
    },
  });
  open.push(gateway);
  const url = await gateway.listen({ port: 0 });
  return { url, clock, upstream };
}

describe('rate limiting (in memory)', () => {
  it('answers 429 with Retry-After and RateLimit-* headers once the bucket is empty, and refills with time', async () => {
    const { url, clock, upstream } = await setup({ default: { capacity: 2, refillPerSecond: 0.5 } });
    const first = await fetch(`${url}/x`);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect(first.headers.get('ratelimit-reset')).toBe('2');
    expect((await fetch(`${url}/x`)).status).toBe(200);
    const limited = await fetch(`${url}/x`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(upstream.received).toHaveLength(2);
    await clock.advance(2_000);
    expect((await fetch(`${url}/x`)).status).toBe(200);
  });

  it('limits each client separately (user id, API key, else IP) and each route separately', async () => {
    const { url } = await setup({ default: { capacity: 1, refillPerSecond: 0.01 } }, [
      { prefix: '/a', upstream: 'svc', auth: 'required' },
      { prefix: '/b', upstream: 'svc', auth: 'required' },
      {
        prefix: '/ip',
        upstream: 'svc',
        auth: 'required',
        rateLimit: { capacity: 1, refillPerSecond: 0.01, by: 'ip' },
      },
      { prefix: '/free', upstream: 'svc', auth: 'public', rateLimit: false },
    ]);
    const alice = { authorization: `Bearer ${await hsToken({ sub: 'alice' })}` };
    const bob = { authorization: `Bearer ${await hsToken({ sub: 'bob' })}` };
    expect((await fetch(`${url}/a`, { headers: alice })).status).toBe(200);
    expect((await fetch(`${url}/a`, { headers: alice })).status).toBe(429);
    expect((await fetch(`${url}/a`, { headers: bob })).status).toBe(200);
    expect((await fetch(`${url}/b`, { headers: alice })).status).toBe(200);
    expect((await fetch(`${url}/ip`, { headers: alice })).status).toBe(200);
    expect((await fetch(`${url}/ip`, { headers: bob })).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/free`)).status).toBe(200);
  });
});
