/**
 * Attacks on the gateway. Each must be refused with the right status and must not reach the
 * upstream: the assertions read what a real upstream actually received.
 */
import { generateKeyPairSync } from 'node:crypto';
import { InternalTokenVerifier } from '@trellis/service';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest } from './fixtures/raw-http.js';
import { AUDIENCE, HS_SECRET, hsToken, ISSUER } from './fixtures/tokens.js';
import { startUpstream, type TestUpstream } from './fixtures/upstream.js';
import { createGateway, type Gateway } from './gateway.js';

const INTERNAL = 'internal-identity-secret-of-32-bytes!!';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let upstream: TestUpstream;
let gateway: Gateway;
let url: string;
beforeAll(async () => {
  upstream = await startUpstream('orders');
  gateway = createGateway({
    logger: { level: 'silent' },
    config: {
      upstreams: { orders: { instances: [upstream.url] } },
      routes: [
        { prefix: '/public', upstream: 'orders', auth: 'public' },
        { prefix: '/admin', upstream: 'orders', auth: { roles: ['admin'] } },
        { prefix: '/api', upstream: 'orders', auth: 'required', bodyLimit: 1024 },
      ],
      auth: {
        issuer: ISSUER,
        audience: AUDIENCE,
        hs256Secret: HS_SECRET,
        publicKeys: [{ alg: 'RS256', pem: rsaPublicPem }],
      },
      identity: { internalTokenSecret: INTERNAL },
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      accessLog: false,
    },
  });
  url = await gateway.listen({ port: 0 });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.received.length = 0;
});

const nowSec = () => Math.floor(Date.now() / 1000);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('forged identity', () => {
  it('strips X-User-*, X-Trellis-Identity and X-Forwarded-* a client sends, and sets its own', async () => {
    const res = await fetch(`${url}/public/x`, {
      headers: {
        'x-user-id': 'admin',
        'x-user-roles': 'admin',
        'x-trellis-identity': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
        'x-forwarded-for': '10.9.9.9',
        'x-real-ip': '10.9.9.9',
        forwarded: 'for=10.9.9.9',
      },
    });
    expect(res.status).toBe(200);
    const h = upstream.received[0]?.headers ?? {};
    expect(h['x-user-id']).toBeUndefined();
    expect(h['x-user-roles']).toBeUndefined();
    expect(h['x-real-ip']).toBeUndefined();
    expect(h.forwarded).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    const identity = await new InternalTokenVerifier({ key: INTERNAL }).verify(
      String(h['x-trellis-identity']),
    );
    expect(identity).toMatchObject({ subject: 'anonymous', kind: 'anonymous' });
  });

  it('replaces forged identity headers with the verified identity on authenticated routes', async () => {
    const token = await hsToken({ sub: 'bob', roles: ['customer'] });
    await fetch(`${url}/api/x`, {
      headers: { ...bearer(token), 'x-user-id': 'admin', 'x-user-roles': 'admin' },
    });
    const h = upstream.received[0]?.headers ?? {};
    expect(h['x-user-id']).toBe('bob');
    expect(h['x-user-roles']).toBe('customer');
  });

  it('a client cannot use the Connection header to strip the gateway identity headers', async () => {
    const token = await hsToken({ sub: 'bob' });
    const res = await rawRequest(url, [
      `GET /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nConnection: close, x-user-id, x-trellis-identity\r\n\r\n`,
    ]);
    expect(res.status).toBe(200);
    const h = upstream.received[0]?.headers ?? {};
    expect(h['x-user-id']).toBe('bob');
    expect(h['x-trellis-identity']).toBeDefined();
  });
});

describe('bad tokens are refused with 401 and never reach the upstream', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const base = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ scope: 'x', ...claims })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSec() - 10)
      .setExpirationTime(nowSec() + 300);

  const cases: Array<[string, () => Promise<Record<string, string>>, string]> = [
    ['no credentials', async () => ({}), 'missing'],
    ['not a bearer scheme', async () => ({ authorization: 'Basic bWFsbG9yeTpwdw==' }), 'malformed'],
    ['garbage token', async () => bearer('not-a-jwt'), 'malformed'],
    ['expired', async () => bearer(await hsToken({ exp: nowSec() - 60 })), 'expired'],
    ['not yet valid (nbf)', async () => bearer(await hsToken({ nbf: nowSec() + 600 })), 'not_yet_valid'],
    ['wrong audience', async () => bearer(await hsToken({ aud: 'another-app' })), 'claim_invalid'],
    ['wrong issuer', async () => bearer(await hsToken({ iss: 'https://evil.test' })), 'claim_invalid'],
    [
      'signed with another secret',
      async () => bearer(await hsToken({}, { secret: 'x'.repeat(40) })),
      'signature',
    ],
    [
      'alg none',
      async () =>
        bearer(
          new UnsecuredJWT({ scope: 'x' })
            .setSubject('mallory')
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setExpirationTime(nowSec() + 300)
            .encode(),
        ),
      'alg_not_allowed',
    ],
    [
      'RS256 public key used as an HS256 secret (algorithm confusion)',
      async () => bearer(await base().setProtectedHeader({ alg: 'HS256' }).sign(enc(rsaPublicPem))),
      'signature',
    ],
    [
      'HS512 (not an allowed algorithm)',
      async () =>
        bearer(
          await base()
            .setProtectedHeader({ alg: 'HS512' })
            .sign(enc(HS_SECRET + HS_SECRET)),
        ),
      'alg_not_allowed',
    ],
    [
      'a valid signature over a subject with CR/LF (header injection)',
      async () => bearer(await hsToken({ sub: 'bob\r\nx-user-roles: admin' })),
      'invalid_claims',
    ],
  ];

  it.each(cases)('%s', async (_name, headers, reason) => {
    const res = await fetch(`${url}/api/orders`, { headers: await headers() });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = (await res.json()) as { error: { code: string; details: { reason: string } } };
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(body.error.details.reason).toBe(reason);
    expect(upstream.received).toHaveLength(0);
  });

  it('an RS256 token signed with the real private key is accepted (the key works)', async () => {
    const token = await base().setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    expect((await fetch(`${url}/api/orders`, { headers: bearer(token) })).status).toBe(200);
  });

  it('a valid token without the required role gets 403 and never reaches the upstream', async () => {
    const res = await fetch(`${url}/admin/users`, {
      headers: bearer(await hsToken({ roles: ['customer'] })),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(upstream.received).toHaveLength(0);
  });
});

describe('path traversal', () => {
  const paths = [
    '/public/../api/secret',
    '/public/./x',
    '/public/..',
    '/public/%2e%2e/api/secret',
    '/public/%2E%2E/api/secret',
    '/public/.%2e/api/secret',
    '/public/..%2fapi%2fsecret',
    '/public/%252e%252e/api/secret',
    '/public/..%5capi',
    '/public/..\\api',
    '/public/a%00b',
    'http://evil.test/public/x',
  ];
  it.each(paths)('%s is refused with 400 INVALID_PATH', async (path) => {
    const res = await rawRequest(url, [`GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`]);
    expect(res.status).toBe(400);
    expect(res.text).toContain('INVALID_PATH');
    expect(upstream.received).toHaveLength(0);
  });
});

describe('oversized bodies', () => {
  it('a declared Content-Length over the limit gets 413 before the body is read', async () => {
    const token = await hsToken();
    const res = await fetch(`${url}/api/upload`, {
      method: 'POST',
      headers: bearer(token),
      body: 'x'.repeat(5000),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(upstream.received).toHaveLength(0);
  });

  it('a chunked body that grows past the limit gets 413', async () => {
    const token = await hsToken();
    const chunk = 'y'.repeat(600);
    const res = await rawRequest(url, [
      `POST /api/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      `${(600).toString(16)}\r\n${chunk}\r\n`,
      `${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    ]);
    expect(res.status).toBe(413);
    expect(upstream.received).toHaveLength(0);
  });

  it('a chunked body within the limit is forwarded with a Content-Length', async () => {
    const token = await hsToken();
    const res = await rawRequest(url, [
      `POST /api/upload HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      '5\r\nhello\r\n0\r\n\r\n',
    ]);
    expect(res.status).toBe(200);
    expect(upstream.received[0]).toMatchObject({ body: 'hello' });
    expect(upstream.received[0]?.headers['content-length']).toBe('5');
    expect(upstream.received[0]?.headers['transfer-encoding']).toBeUndefined();
  });
});

describe('malformed and smuggled requests', () => {
  const requests: Array<[string, string]> = [
    [
      'a bare LF inside a header value',
      'GET /public/x HTTP/1.1\r\nHost: gw\r\nX-A: a\nX-User-Id: admin\r\n\r\n',
    ],
    ['a CR inside a header value', 'GET /public/x HTTP/1.1\r\nHost: gw\r\nX-A: a\rX-User-Id: admin\r\n\r\n'],
    [
      'Content-Length with Transfer-Encoding (smuggling)',
      'POST /public/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'two different Content-Length headers',
      'POST /public/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    ],
    ['a space before the header colon', 'GET /public/x HTTP/1.1\r\nHost: gw\r\nX-User-Id : admin\r\n\r\n'],
  ];
  it.each(requests)('%s gets 400 and nothing is forwarded', async (_name, raw) => {
    const res = await rawRequest(url, [raw]);
    expect(res.status).toBe(400);
    expect(upstream.received).toHaveLength(0);
  });
});

describe('slow clients', () => {
  it('headers that never finish are cut off (408) and nothing is forwarded', async () => {
    const res = await rawRequest(url, ['GET /public/x HTTP/1.1\r\nHost: gw\r\n', 'X-Slow: 1\r\n'], {
      pauseMs: 200,
      waitMs: 4000,
    });
    expect(res.closed).toBe(true);
    expect(res.status === undefined || res.status === 408).toBe(true);
    expect(upstream.received).toHaveLength(0);
  });

  it('a body that trickles in past the request timeout is cut off and nothing is forwarded', async () => {
    const token = await hsToken();
    const res = await rawRequest(
      url,
      [
        `POST /api/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100\r\n\r\n`,
        'x'.repeat(10),
      ],
      { waitMs: 4000 },
    );
    expect(res.closed).toBe(true);
    expect(res.status === undefined || res.status === 408).toBe(true);
    expect(upstream.received).toHaveLength(0);
  });
});
