/**
 * Service-to-service trust. The gateway verifies the end user and signs a short-lived
 * internal identity token (a JWT in the `X-Trellis-Identity` header); services that require it
 * accept only requests carrying a valid one and never read identity from plain headers, so a
 * request that bypasses the gateway cannot claim to be anybody.
 *
 * Tokens are cached on both sides (signed per identity, verified per token string) so the
 * cost per request is a map lookup.
 */
import { type Clock, systemClock, UnauthorizedError } from '@trellis/core';
import { type CryptoKey, type JWK, type JWTPayload, jwtVerify, type KeyObject, SignJWT } from 'jose';
import type { Identity } from './context.js';
import { ExpiringCache } from './expiring-cache.js';

/** The header carrying the internal identity token. */
export const IDENTITY_TOKEN_HEADER = 'x-trellis-identity';

/** Plain identity headers the gateway sends for information; services never trust them. */
export const IDENTITY_HEADERS: readonly string[] = [
  'x-user-id',
  'x-user-kind',
  'x-user-scopes',
  'x-user-roles',
  'x-user-tenant',
];

/** Signing algorithms for internal tokens. */
export type InternalTokenAlgorithm = 'HS256' | 'EdDSA' | 'ES256' | 'RS256';

type Key = Uint8Array | KeyObject | CryptoKey | JWK;

/** Options shared by signer and verifier. */
interface TokenOptionsBase {
  /** `HS256` (shared secret, default), or an asymmetric algorithm with a key pair. */
  algorithm?: InternalTokenAlgorithm;
  /** Default `trellis-gateway`. */
  issuer?: string;
  /** Default `trellis-internal`. */
  audience?: string;
  clock?: Clock;
  /** Cache bound (entries). Default 10 000. */
  cacheSize?: number;
}

function keyFrom(secret: string | Key): Key {
  return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
}

function identityKey(i: Identity): string {
  return `${i.kind}\u0000${i.subject}\u0000${i.scopes.join(' ')}\u0000${i.roles.join(' ')}\u0000${i.tenant ?? ''}`;
}

/**
 * Signs internal identity tokens (used by the gateway, or by a service acting as itself).
 *
 * @example
 * ```ts
 * const signer = new InternalTokenSigner({ key: process.env.INTERNAL_TOKEN_SECRET! });
 * headers['x-trellis-identity'] = await signer.sign({ subject: 'u1', kind: 'user', scopes: [], roles: [] });
 * ```
 */
export class InternalTokenSigner {
  private readonly key: Key;
  private readonly alg: InternalTokenAlgorithm;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly ttlSeconds: number;
  private readonly clock: Clock;
  private readonly cache: ExpiringCache<string>;

  /** Throws `RangeError` when an HS256 secret is shorter than 32 bytes or the TTL is not positive. */
  constructor(options: TokenOptionsBase & { key: string | Key; ttlSeconds?: number }) {
    this.key = keyFrom(options.key);
    this.alg = options.algorithm ?? 'HS256';
    if (this.alg === 'HS256' && this.key instanceof Uint8Array && this.key.byteLength < 32) {
      throw new RangeError('An HS256 internal token secret must be at least 32 bytes');
    }
    this.issuer = options.issuer ?? 'trellis-gateway';
    this.audience = options.audience ?? 'trellis-internal';
    this.ttlSeconds = options.ttlSeconds ?? 60;
    if (!(this.ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
    this.clock = options.clock ?? systemClock;
    this.cache = new ExpiringCache(options.cacheSize ?? 10_000);
  }

  /**
   * A token for `identity`, reused while more than half its lifetime remains (so the hot path
   * rarely signs). Use {@link cached} first on hot paths to skip the promise.
   */
  async sign(identity: Identity): Promise<string> {
    const key = identityKey(identity);
    const hit = this.cached(identity, key);
    if (hit !== undefined) return hit;
    const nowSec = Math.floor(this.clock.now() / 1000);
    const token = await new SignJWT({
      kind: identity.kind,
      scope: identity.scopes.join(' '),
      roles: [...identity.roles],
      ...(identity.tenant ? { tid: identity.tenant } : {}),
    })
      .setProtectedHeader({ alg: this.alg, typ: 'JWT' })
      .setSubject(identity.subject)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + this.ttlSeconds)
      .sign(this.key as KeyObject);
    // Refresh at half-life: a token forwarded through several hops keeps enough time left.
    this.cache.set(key, token, (nowSec + this.ttlSeconds / 2) * 1000);
    return token;
  }

  /** The cached token for `identity`, or undefined when one must be signed. */
  cached(identity: Identity, key = identityKey(identity)): string | undefined {
    return this.cache.get(key, this.clock.now());
  }
}

/** Options of {@link InternalTokenVerifier}. */
export interface InternalTokenVerifierOptions extends TokenOptionsBase {
  /** The HS256 secret, or the public key of the asymmetric algorithm. */
  key: string | Key;
  /** Allowed clock skew in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /**
   * Refuse tokens issued (`iat`) longer ago than this, whatever their `exp` says, so the replay
   * window of a token is bounded by the verifier and not only by its signer. Default: no bound
   * beyond `exp`.
   */
  maxTokenAgeSeconds?: number;
}

/**
 * Verifies internal identity tokens: signature with the one configured algorithm (no `none`,
 * no algorithm switching), issuer, audience, `exp`/`nbf`. Verified tokens are cached until they
 * expire.
 *
 * @example
 * ```ts
 * const verifier = new InternalTokenVerifier({ key: process.env.INTERNAL_TOKEN_SECRET! });
 * const identity = await verifier.verify(request.headers['x-trellis-identity']);
 * ```
 */
export class InternalTokenVerifier {
  private readonly key: Key;
  private readonly alg: InternalTokenAlgorithm;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly clock: Clock;
  private readonly tolerance: number;
  private readonly maxAge: number | undefined;
  private readonly cache: ExpiringCache<Identity>;

  constructor(options: InternalTokenVerifierOptions) {
    this.key = keyFrom(options.key);
    this.alg = options.algorithm ?? 'HS256';
    this.issuer = options.issuer ?? 'trellis-gateway';
    this.audience = options.audience ?? 'trellis-internal';
    this.clock = options.clock ?? systemClock;
    this.tolerance = options.clockToleranceSeconds ?? 5;
    this.maxAge = options.maxTokenAgeSeconds;
    this.cache = new ExpiringCache(options.cacheSize ?? 10_000);
  }

  /** Throws `UnauthorizedError` (details.reason) when the token is missing, malformed, forged or expired. */
  async verify(token: string | undefined): Promise<Identity> {
    if (!token)
      throw new UnauthorizedError('Internal identity token required', { details: { reason: 'missing' } });
    const now = this.clock.now();
    const hit = this.cache.get(token, now);
    if (hit) return hit;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as KeyObject, {
        algorithms: [this.alg],
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: this.tolerance,
        currentDate: new Date(now),
        ...(this.maxAge !== undefined ? { maxTokenAge: this.maxAge } : {}),
      }));
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_INVALID';
      throw new UnauthorizedError('Invalid internal identity token', {
        cause: error,
        details: { reason: code },
      });
    }
    const identity = identityFromClaims(payload);
    // Cached no longer than the token is acceptable: until exp, or until it grows too old.
    const until = Math.min(
      (payload.exp ?? 0) * 1000,
      this.maxAge !== undefined ? ((payload.iat ?? 0) + this.maxAge) * 1000 : Number.POSITIVE_INFINITY,
    );
    if (payload.exp !== undefined) this.cache.set(token, identity, until);
    return identity;
  }
}

const KINDS = new Set(['user', 'api-key', 'service', 'anonymous']);

function identityFromClaims(p: JWTPayload): Identity {
  const kind = typeof p.kind === 'string' && KINDS.has(p.kind) ? (p.kind as Identity['kind']) : 'user';
  const scopes = typeof p.scope === 'string' && p.scope ? p.scope.split(' ') : [];
  const roles = Array.isArray(p.roles) ? p.roles.filter((r): r is string => typeof r === 'string') : [];
  const identity: Identity = { subject: String(p.sub), kind, scopes, roles };
  if (typeof p.tid === 'string') identity.tenant = p.tid;
  return identity;
}
