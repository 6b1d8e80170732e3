import { ManualClock } from '@trellis/core';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords.js';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, UserTokenIssuer } from './user-tokens.js';

describe('passwords', () => {
  it('hashes with scrypt and a random salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false);
  });

  it('treats malformed hashes as a wrong password', async () => {
    expect(await verifyPassword('x', 'bcrypt$whatever')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$a$b$c$d$')).toBe(false);
  });
});

describe('user tokens', () => {
  const secret = 'a-very-long-secret-of-at-least-32-bytes!';

  it('issues HS256 JWTs with issuer, audience, subject, role and expiry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { token, expiresIn } = await new UserTokenIssuer(secret, 600, clock).issue({
      id: 'u1',
      role: 'admin',
    });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      currentDate: new Date(clock.now()),
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'u1', roles: ['admin'] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
    expect(expiresIn).toBe(600);
  });

  it('refuses a short secret', () => {
    expect(() => new UserTokenIssuer('short')).toThrow(RangeError);
  });
});
