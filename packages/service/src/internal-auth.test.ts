import { generateKeyPairSync } from 'node:crypto';
import { ManualClock } from '@trellis/core';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { InternalTokenSigner, InternalTokenVerifier } from './internal-token.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

const secret = 'an-internal-token-secret-of-32-bytes!';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();
const whoami = endpoint({
  method: 'GET',
  path: '/whoami',
  headers: z.object({ 'x-user-id': z.string().optional() }),
  response: z.object({ subject: z.string().nullable(), forwardedUserHeader: z.string().nullable() }),
});
const adminOnly = endpoint({
  method: 'DELETE',
  path: '/things/:id',
  params: z.object({ id: z.string() }),
  auth: { scopes: ['things:delete'], roles: ['admin'] },
});
const anyUser = endpoint({ method: 'GET', path: '/mine', auth: 'authenticated' });

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

async function start(
  mode: 'off' | 'optional' | 'required',
  clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z')),
) {
  const service = createService({
    name: 'things',
    logger: { level: 'silent' },
    clock,
    internalAuth: { mode, verifier: new InternalTokenVerifier({ key: secret, clock }) },
    routes: [
      route(whoami, ({ ctx, headers }) => ({
        subject: ctx.identity?.subject ?? null,
        forwardedUserHeader: headers['x-user-id'] ?? null,
      })),
      route(adminOnly, () => undefined),
      route(anyUser, () => undefined),
    ],
  });
  services.push(service);
  const url = await service.listen({ port: 0, signals: false });
  const signer = new InternalTokenSigner({ key: secret, clock });
  return { url, clock, signer };
}

const user = { subject: 'u1', kind: 'user' as const, scopes: ['things:delete'], roles: ['admin'] };

describe('internal identity tokens', () => {
  it('required mode: refuses requests without a token before the handler, but not health probes', async () => {
    const { url } = await start('required');
    const res = await fetch(`${url}/whoami`);
    expect(res.status).toBe(401);
    expect((await json(res)).error).toMatchObject({ code: 'UNAUTHORIZED', details: { reason: 'missing' } });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });

  it('a valid token sets the identity; forged X-User-* headers never reach the handler', async () => {
    const { url, signer } = await start('required');
    const token = await signer.sign(user);
    const res = await fetch(`${url}/whoami`, {
      headers: { 'x-trellis-identity': token, 'x-user-id': 'root' },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ subject: 'u1', forwardedUserHeader: null });
  });

  it('refuses tokens signed with another key, unsigned (alg none), for another audience, or expired', async () => {
    const { url, clock } = await start('required');
    const now = Math.floor(clock.now() / 1000);
    const forged = await new InternalTokenSigner({ key: 'another-secret-that-is-32-bytes-long', clock }).sign(
      user,
    );
    const none = new UnsecuredJWT({ kind: 'user' })
      .setSubject('u1')
      .setIssuer('trellis-gateway')
      .setAudience('trellis-internal')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .encode();
    const wrongAud = await new InternalTokenSigner({ key: secret, audience: 'elsewhere', clock }).sign(user);
    const expired = await new SignJWT({ kind: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer('trellis-gateway')
      .setAudience('trellis-internal')
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(secret));
    for (const token of [forged, none, wrongAud, expired, 'not.a.jwt']) {
      const res = await fetch(`${url}/whoami`, { headers: { 'x-trellis-identity': token } });
      expect(res.status, token).toBe(401);
    }
  });

  it('a cached token stops being accepted once it expires', async () => {
    const { url, clock, signer } = await start('required');
    const token = await signer.sign(user);
    expect((await fetch(`${url}/whoami`, { headers: { 'x-trellis-identity': token } })).status).toBe(200);
    await clock.advance(66_000); // 60 s lifetime + 5 s tolerance
    expect((await fetch(`${url}/whoami`, { headers: { 'x-trellis-identity': token } })).status).toBe(401);
  });

  it('enforces endpoint scopes and roles (403) and authentication (401)', async () => {
    const { url, signer } = await start('optional');
    const viewer = await signer.sign({
      subject: 'u2',
      kind: 'user',
      scopes: ['things:read'],
      roles: ['admin'],
    });
    const admin = await signer.sign(user);
    const anon = await signer.sign({ subject: 'anonymous', kind: 'anonymous', scopes: [], roles: [] });
    expect((await fetch(`${url}/things/1`, { method: 'DELETE' })).status).toBe(401);
    const noScope = await fetch(`${url}/things/1`, {
      method: 'DELETE',
      headers: { 'x-trellis-identity': viewer },
    });
    expect(noScope.status).toBe(403);
    expect((await json(noScope)).error.details).toEqual({ missingScopes: ['things:delete'] });
    expect(
      (await fetch(`${url}/things/1`, { method: 'DELETE', headers: { 'x-trellis-identity': admin } })).status,
    ).toBe(204);
    expect((await fetch(`${url}/mine`, { headers: { 'x-trellis-identity': anon } })).status).toBe(401);
    expect((await fetch(`${url}/mine`, { headers: { 'x-trellis-identity': viewer } })).status).toBe(204);
  });

  it('off mode: no identity at all, and identity headers are still stripped', async () => {
    const { url, signer } = await start('off');
    const token = await signer.sign(user);
    const res = await fetch(`${url}/whoami`, {
      headers: { 'x-trellis-identity': token, 'x-user-id': 'root' },
    });
    expect(await json(res)).toEqual({ subject: null, forwardedUserHeader: null });
  });

  it('verifies asymmetric (EdDSA) tokens with only the public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const signer = new InternalTokenSigner({ key: privateKey, algorithm: 'EdDSA' });
    const verifier = new InternalTokenVerifier({ key: publicKey, algorithm: 'EdDSA' });
    const token = await signer.sign(user);
    expect(await verifier.verify(token)).toEqual(user);
    // The same token presented to an HS256 verifier (algorithm switching) is refused.
    await expect(new InternalTokenVerifier({ key: secret }).verify(token)).rejects.toMatchObject({
      status: 401,
    });
  });

  it('the signer reuses a token for the same identity until half its lifetime, then signs a new one', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const signer = new InternalTokenSigner({ key: secret, clock, ttlSeconds: 60 });
    const a = await signer.sign(user);
    expect(await signer.sign(user)).toBe(a);
    expect(await signer.sign({ ...user, subject: 'u2' })).not.toBe(a);
    await clock.advance(31_000);
    expect(await signer.sign(user)).not.toBe(a);
    expect(() => new InternalTokenSigner({ key: 'short' })).toThrow(RangeError);
  });
});
