import { createHash, createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@trellis/core';
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator } from './authenticator.js';
import { AUDIENCE, HS_SECRET, hsToken, ISSUER } from './fixtures/tokens.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A real identity provider's JWKS endpoint on loopback. */
async function jwksServer() {
  const rs = await generateKeyPair('RS256');
  const es = await generateKeyPair('ES256');
  const app = Fastify();
  let fetches = 0;
  app.get('/jwks', async () => {
    fetches++;
    return {
      keys: [
        { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
      ],
    };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/jwks`,
    rs,
    es,
    fetches: () => fetches,
  };
}

const sign = (
  alg: 'RS256' | 'ES256',
  kid: string,
  key: Parameters<SignJWT['sign']>[0],
  claims: Record<string, unknown> = {},
) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'orders:read', ...claims })
    .setProtectedHeader({ alg, kid })
    .setSubject('carol')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(key);
};

describe('JWT through JWKS', () => {
  it('verifies RS256 and ES256 tokens against a JWKS endpoint, fetching it once', async () => {
    const idp = await jwksServer();
    const auth = new Authenticator({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: idp.url,
      clockToleranceSeconds: 5,
      cacheSize: 100,
      apiKeys: [],
      rolesClaim: 'roles',
    });
    const rsToken = await sign('RS256', 'rs-1', idp.rs.privateKey);
    expect((await auth.verify(rsToken)).identity).toMatchObject({
      subject: 'carol',
      scopes: ['orders:read'],
    });
    expect((await auth.verify(await sign('ES256', 'es-1', idp.es.privateKey))).identity.subject).toBe(
      'carol',
    );
    expect(idp.fetches()).toBe(1);
    // A key the provider does not publish, and an HS256 token when no secret is configured.
    const other = await generateKeyPair('RS256');
    await expect(auth.verify(await sign('RS256', 'rs-1', other.privateKey))).rejects.toMatchObject({
      details: { reason: 'signature' },
    });
    await expect(auth.verify(await hsToken())).rejects.toMatchObject({
      details: { reason: 'alg_not_allowed' },
    });
  });

  it('caches a verified token only until it expires', async () => {
    const clock = new ManualClock(Date.now());
    const auth = new Authenticator(
      {
        issuer: ISSUER,
        audience: AUDIENCE,
        hs256Secret: HS_SECRET,
        clockToleranceSeconds: 0,
        cacheSize: 10,
        apiKeys: [],
        rolesClaim: 'roles',
      },
      { clock },
    );
    const nowSec = Math.floor(clock.now() / 1000);
    const token = await hsToken({ exp: nowSec + 60 }, { nowSec });
    await auth.verify(token);
    expect(auth.cached(token)).toBeDefined();
    await clock.advance(61_000);
    expect(auth.cached(token)).toBeUndefined();
    await expect(auth.verify(token)).rejects.toMatchObject({ details: { reason: 'expired' } });
  });
});

describe('JWT with static public keys', () => {
  it('checks a token against the key its kid names, then against each key of its algorithm without a kid (rotation)', async () => {
    const [old, next] = [await generateKeyPair('RS256'), await generateKeyPair('RS256')];
    const pem = async (k: Parameters<typeof exportJWK>[0]) =>
      createPublicKey({ key: await exportJWK(k), format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      }) as string;
    const config = (publicKeys: Array<{ kid?: string; alg: 'RS256'; pem: string }>) =>
      new Authenticator({
        issuer: ISSUER,
        audience: AUDIENCE,
        publicKeys,
        clockToleranceSeconds: 5,
        cacheSize: 10,
        apiKeys: [],
        rolesClaim: 'roles',
      });
    // The retiring key has no kid; the new one has. A token naming the new kid must be checked
    // against the new key, not the first key of its algorithm.
    const named = config([
      { alg: 'RS256', pem: await pem(old.publicKey) },
      { kid: 'next', alg: 'RS256', pem: await pem(next.publicKey) },
    ]);
    expect((await named.verify(await sign('RS256', 'next', next.privateKey))).identity.subject).toBe('carol');
    expect((await named.verify(await sign('RS256', 'old', old.privateKey))).identity.subject).toBe('carol');
    // Neither key has a kid: each is tried; a token signed by neither is still refused.
    const unnamed = config([
      { alg: 'RS256', pem: await pem(old.publicKey) },
      { alg: 'RS256', pem: await pem(next.publicKey) },
    ]);
    expect((await unnamed.verify(await sign('RS256', 'any', next.privateKey))).identity.subject).toBe(
      'carol',
    );
    const stranger = await generateKeyPair('RS256');
    await expect(unnamed.verify(await sign('RS256', 'any', stranger.privateKey))).rejects.toMatchObject({
      details: { reason: 'signature' },
    });
    // A kid no key has, while every key has one: no key to check against.
    const kids = config([{ kid: 'next', alg: 'RS256', pem: await pem(next.publicKey) }]);
    await expect(kids.verify(await sign('RS256', 'gone', next.privateKey))).rejects.toMatchObject({
      details: { reason: 'no_key' },
    });
  });
});

describe('API keys and scopes through the gateway', () => {
  it('accepts a known API key, refuses an unknown one, and enforces route scopes', async () => {
    const upstream: TestUpstream = await startUpstream('svc');
    closers.push(() => upstream.close());
    const key = 'sk_test_0123456789';
    const gateway: Gateway = createGateway({
      logger: { level: 'silent' },
      config: {
        upstreams: { svc: { instances: [upstream.url] } },
        routes: [
          { prefix: '/reports', upstream: 'svc', auth: { scopes: ['reports:read'] } },
          { prefix: '/orders', upstream: 'svc', auth: { scopes: ['orders:write'] } },
        ],
        auth: {
          issuer: ISSUER,
          audience: AUDIENCE,
          apiKeys: [
            {
              id: 'reporting-job',
              sha256: createHash('sha256').update(key).digest('hex'),
              scopes: ['reports:read'],
            },
          ],
        },
        accessLog: false,
      },
    });
    closers.push(() => gateway.close());
    const url = await gateway.listen({ port: 0 });
    const ok = await fetch(`${url}/reports/daily`, { headers: { 'x-api-key': key } });
    expect(ok.status).toBe(200);
    expect(upstream.received[0]?.headers['x-user-id']).toBe('reporting-job');
    expect(upstream.received[0]?.headers['x-user-kind']).toBe('api-key');
    expect(upstream.received[0]?.headers['x-api-key']).toBeUndefined();
    expect((await fetch(`${url}/reports/daily`, { headers: { 'x-api-key': 'sk_wrong' } })).status).toBe(401);
    const forbidden = await fetch(`${url}/orders`, { headers: { 'x-api-key': key } });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { details: unknown } }).error.details).toEqual({
      missingScopes: ['orders:write'],
    });
    expect(upstream.received).toHaveLength(1);
  });
});
