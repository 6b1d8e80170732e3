/**
 * Credentials an attacker who reaches a service port directly (bypassing the gateway) could
 * present, from plain identity headers to tokens signed with the real secret but wrong in one
 * claim each. A service must answer every one of them with 401 on every route that is not
 * public. Also: the genuine tokens the positive controls use (so the attack requests are shown
 * to be requests that would pass with the right credentials).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { InternalTokenSigner } from '@trellis/service';
import { SignJWT, UnsecuredJWT } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../services/users/user-tokens.js';

const ISSUER = 'trellis-gateway';
const AUDIENCE = 'trellis-internal';
const HEADER = 'x-trellis-identity';
const adminClaims = { kind: 'user', scope: '', roles: ['admin', 'service', 'ops'] };

/** One way of claiming an identity. */
export interface ForgedIdentity {
  name: string;
  headers: OutgoingHttpHeaders;
}

/** The installation's real secrets (a test reads them from the data directory). */
export interface ShopSecretsForTests {
  jwtSecret: string;
  internalTokenSecret: string;
}

const enc = (s: string) => new TextEncoder().encode(s);
const nowSec = () => Math.floor(Date.now() / 1000);

function hs(
  secret: string,
  o: { alg?: string; iss?: string; aud?: string; iat?: number; exp?: number | null; nbf?: number },
) {
  const iat = o.iat ?? nowSec();
  let jwt = new SignJWT(adminClaims)
    .setProtectedHeader({ alg: o.alg ?? 'HS256', typ: 'JWT' })
    .setSubject('attacker')
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setIssuedAt(iat);
  if (o.exp !== null) jwt = jwt.setExpirationTime(o.exp ?? iat + 60);
  if (o.nbf !== undefined) jwt = jwt.setNotBefore(o.nbf);
  return jwt.sign(enc(secret));
}

/** A genuine internal token for `identity` (what the gateway or a peer service would send). */
export function genuineToken(
  secrets: ShopSecretsForTests,
  identity: { subject: string; kind: 'user' | 'service' | 'anonymous'; roles: string[] },
): Promise<string> {
  const signer = new InternalTokenSigner({ key: secrets.internalTokenSecret, ttlSeconds: 120 });
  return signer.sign({ ...identity, scopes: [] });
}

/** A user JWT as the users service issues it (for the gateway, never for services). */
export function userJwt(secrets: ShopSecretsForTests, subject: string, role: string): Promise<string> {
  return new SignJWT({ roles: [role] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(enc(secrets.jwtSecret));
}

/** Swaps the payload of a genuine token for an admin one, keeping the old signature. */
function tamper(token: string): string {
  const [head, , sig] = token.split('.');
  const body = Buffer.from(
    JSON.stringify({
      ...adminClaims,
      sub: 'attacker',
      iss: ISSUER,
      aud: AUDIENCE,
      iat: nowSec(),
      exp: nowSec() + 60,
    }),
  ).toString('base64url');
  return `${head}.${body}.${sig}`;
}

/**
 * Every forgery, built against the real installation's secrets where a forgery needs them (a
 * token that is right in every way but one).
 */
export async function forgedIdentities(secrets: ShopSecretsForTests): Promise<ForgedIdentity[]> {
  const key = secrets.internalTokenSecret;
  const t = nowSec();
  const genuine = await genuineToken(secrets, { subject: 'anonymous', kind: 'anonymous', roles: [] });
  const none = new UnsecuredJWT(adminClaims)
    .setSubject('attacker')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1m')
    .encode();
  const plain = {
    'x-user-id': 'attacker',
    'x-user-kind': 'user',
    'x-user-roles': 'admin,service,ops',
    'x-user-scopes': '',
  };
  const forged: Array<[string, OutgoingHttpHeaders]> = [
    ['no credentials at all', {}],
    ['plain X-User-* headers claiming admin and service', plain],
    ['a garbage identity token', { [HEADER]: 'garbage' }],
    ['an empty identity token', { [HEADER]: '' }],
    ['an unsigned token (alg none)', { [HEADER]: none }],
    [
      'a token signed with another secret',
      { [HEADER]: await hs('not-the-secret-but-just-as-long-as-it!!', {}) },
    ],
    ['an expired token (real secret)', { [HEADER]: await hs(key, { iat: t - 3600, exp: t - 600 }) }],
    ['a token not valid yet (real secret)', { [HEADER]: await hs(key, { nbf: t + 3600, exp: t + 7200 }) }],
    ['a token without exp (real secret)', { [HEADER]: await hs(key, { exp: null }) }],
    ['a token from another issuer (real secret)', { [HEADER]: await hs(key, { iss: 'trellis-shop' }) }],
    ['a token for another audience (real secret)', { [HEADER]: await hs(key, { aud: 'trellis-shop-api' }) }],
    ['HS512 instead of the pinned HS256 (real secret)', { [HEADER]: await hs(key, { alg: 'HS512' }) }],
    ['a genuine token with its payload swapped for admin claims', { [HEADER]: tamper(genuine) }],
    [
      'the public user JWT (admin) as identity token',
      { [HEADER]: await userJwt(secrets, 'attacker', 'admin') },
    ],
    [
      'the public user JWT (admin) as a bearer token, plus X-User-*',
      { authorization: `Bearer ${await userJwt(secrets, 'attacker', 'admin')}`, ...plain },
    ],
    ['a genuine token next to a forged one (two headers)', { [HEADER]: [genuine, none] }],
  ];
  return forged.map(([name, headers]) => ({ name, headers }));
}
