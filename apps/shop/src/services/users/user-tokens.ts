/**
 * The JWTs the users service issues and the gateway verifies: HS256 with a shared secret
 * (`JWT_SECRET`), issuer `trellis-shop`, audience `trellis-shop-api`, the user id as `sub`,
 * the role in `roles`, one hour of validity by default.
 */
import { type Clock, systemClock } from '@trellis/core';
import { SignJWT } from 'jose';

/** Issuer of shop user tokens. */
export const TOKEN_ISSUER = 'trellis-shop';
/** Audience of shop user tokens. */
export const TOKEN_AUDIENCE = 'trellis-shop-api';

/** Signs user JWTs. */
export class UserTokenIssuer {
  private readonly key: Uint8Array;
  private readonly clock: Clock;

  /** Throws `RangeError` when the secret is shorter than 32 bytes. */
  constructor(
    secret: string,
    readonly ttlSeconds = 3600,
    clock: Clock = systemClock,
  ) {
    this.key = new TextEncoder().encode(secret);
    if (this.key.byteLength < 32) throw new RangeError('JWT_SECRET must be at least 32 bytes');
    this.clock = clock;
  }

  /**
   * A token for `user`.
   *
   * @example
   * ```ts
   * const { token } = await issuer.issue({ id: 'u1', role: 'customer' });
   * ```
   */
  async issue(user: { id: string; role: string }): Promise<{ token: string; expiresIn: number }> {
    const now = Math.floor(this.clock.now() / 1000);
    const token = await new SignJWT({ roles: [user.role] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(this.key);
    return { token, expiresIn: this.ttlSeconds };
  }
}
