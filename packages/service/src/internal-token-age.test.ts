/**
 * The verifier bounds how long an internal token can be used, whatever lifetime its signer
 * wrote into it: a replay window set by the receiving side.
 */
import { ManualClock } from '@trellis/core';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { InternalTokenSigner, InternalTokenVerifier } from './internal-token.js';

const secret = 'an-internal-token-secret-of-32-bytes!';
const key = new TextEncoder().encode(secret);
const t0 = Date.parse('2026-01-01T00:00:00Z');

function longLived(iatSec: number, lifetimeSec: number): Promise<string> {
  return new SignJWT({ kind: 'user', scope: '', roles: ['admin'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('u1')
    .setIssuer('trellis-gateway')
    .setAudience('trellis-internal')
    .setIssuedAt(iatSec)
    .setExpirationTime(iatSec + lifetimeSec)
    .sign(key);
}

describe('maxTokenAgeSeconds', () => {
  it('refuses a validly signed token once it is older than the bound, though its exp is years away', async () => {
    const clock = new ManualClock(t0);
    const verifier = new InternalTokenVerifier({ key: secret, clock, maxTokenAgeSeconds: 300 });
    const token = await longLived(t0 / 1000, 10 * 365 * 24 * 3600);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'u1' });
    await clock.advance(300_000 + 6_000); // past the bound and the 5 s tolerance
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401 });
  });

  it('does not let the verified-token cache outlive the bound', async () => {
    const clock = new ManualClock(t0);
    const verifier = new InternalTokenVerifier({ key: secret, clock, maxTokenAgeSeconds: 60 });
    const token = await longLived(t0 / 1000, 3600);
    await verifier.verify(token); // cached now
    await clock.advance(66_000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a token issued in the future (beyond the tolerance)', async () => {
    const clock = new ManualClock(t0);
    const verifier = new InternalTokenVerifier({ key: secret, clock, maxTokenAgeSeconds: 300 });
    await expect(verifier.verify(await longLived(t0 / 1000 + 120, 60))).rejects.toMatchObject({
      status: 401,
    });
  });

  it('accepts the signer’s own tokens for their whole lifetime when the bound covers it', async () => {
    const clock = new ManualClock(t0);
    const signer = new InternalTokenSigner({ key: secret, clock, ttlSeconds: 300 });
    const verifier = new InternalTokenVerifier({ key: secret, clock, maxTokenAgeSeconds: 300 });
    const token = await signer.sign({ subject: 'orders', kind: 'service', scopes: [], roles: ['service'] });
    await clock.advance(299_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'orders', kind: 'service' });
  });

  it('without the bound, only exp limits it (the default, unchanged)', async () => {
    const clock = new ManualClock(t0);
    const verifier = new InternalTokenVerifier({ key: secret, clock });
    const token = await longLived(t0 / 1000, 10 * 365 * 24 * 3600);
    await clock.advance(30 * 24 * 3600_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'u1' });
  });
});
