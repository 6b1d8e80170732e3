/**
 * Who is calling: a JWT (HS256 locally, RS256/ES256/PS256/EdDSA through JWKS or static keys)
 * or an API key. Tokens are checked for signature, `exp`, `nbf`, `iss` and `aud`; `alg: none`
 * and algorithm confusion are refused because the algorithm picks the key *kind* first (an
 * HS256 token can only ever be checked against the configured HS256 secret, never against a
 * public key) and jose is given exactly one allowed algorithm per verification.
 *
 * Verified tokens are cached until they expire, so the hot path is a map lookup.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { type Clock, systemClock, UnauthorizedError } from '@trellis/core';
import { ExpiringCache, type Identity } from '@trellis/service';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from './config.js';

const ASYMMETRIC = new Set(['RS256', 'ES256', 'PS256', 'EdDSA']);
/** Identity values become header values upstream: visible ASCII only, no separators. */
const SAFE = /^[\x21-\x2b\x2d-\x7e]{1,256}$/;

/** A verified caller plus what the gateway caches alongside it. */
export interface Authenticated {
  identity: Identity;
  /** Rate-limit key of the caller. */
  clientKey: string;
  /** Clock time (ms) after which this result must not be used. */
  expiresAt: number;
  /** Internal token for upstreams, filled lazily by the gateway. */
  internalToken?: string;
  internalTokenRefreshAt?: number;
  /** Plain `x-user-*` headers for upstreams, computed once. */
  plainHeaders?: string[];
}

function unauthorized(reason: string, cause?: unknown): UnauthorizedError {
  return new UnauthorizedError('Invalid or missing credentials', { cause, details: { reason } });
}

/** Verifies bearer tokens and API keys. */
export class Authenticator {
  private readonly cache: ExpiringCache<Authenticated>;
  private readonly clock: Clock;
  private readonly secret: Uint8Array | undefined;
  private readonly staticKeys: Array<{ kid?: string; alg: string; key: KeyObject }>;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly apiKeys: Map<string, Authenticated>;

  constructor(
    private readonly config: AuthConfig,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.cache = new ExpiringCache(config.cacheSize);
    this.secret = config.hs256Secret ? new TextEncoder().encode(config.hs256Secret) : undefined;
    this.staticKeys = (config.publicKeys ?? []).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      key: createPublicKey(k.pem),
    }));
    this.jwks = config.jwksUrl
      ? createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000 })
      : undefined;
    this.apiKeys = new Map(
      config.apiKeys.map((k) => [
        k.sha256,
        {
          identity: { subject: k.id, kind: 'api-key', scopes: k.scopes, roles: k.roles },
          clientKey: `key:${k.id}`,
          expiresAt: Number.POSITIVE_INFINITY,
        },
      ]),
    );
  }

  /** The cached result for `token`, if verified before and not expired (the hot path). */
  cached(token: string): Authenticated | undefined {
    return this.cache.get(token, this.clock.now());
  }

  /** Looks up an API key. Throws `UnauthorizedError` when unknown. */
  apiKey(key: string): Authenticated {
    const found = this.apiKeys.get(createHash('sha256').update(key).digest('hex'));
    if (!found) throw unauthorized('unknown_api_key');
    return found;
  }

  /**
   * Verifies a bearer token. Throws `UnauthorizedError` whose `details.reason` says why:
   * `malformed`, `alg_not_allowed`, `no_key`, `expired`, `not_yet_valid`, `claim_invalid`
   * (iss/aud), `signature`, `invalid_claims`.
   */
  async verify(token: string): Promise<Authenticated> {
    const hit = this.cached(token);
    if (hit) return hit;
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
    } catch (error) {
      throw unauthorized('malformed', error);
    }
    const now = this.clock.now();
    const options = {
      algorithms: [alg ?? 'none'],
      issuer: this.config.issuer,
      audience: this.config.audience,
      clockTolerance: this.config.clockToleranceSeconds,
      currentDate: new Date(now),
      requiredClaims: ['sub', 'exp'],
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256') {
        if (!this.secret) throw unauthorized('alg_not_allowed');
        ({ payload } = await jwtVerify(token, this.secret, options));
      } else if (alg !== undefined && ASYMMETRIC.has(alg)) {
        const keys = this.keysFor(alg, kid);
        if (keys.length > 0) payload = await verifyWithAny(token, keys, options);
        else if (this.jwks) ({ payload } = await jwtVerify(token, this.jwks, options));
        else throw unauthorized('no_key');
      } else {
        throw unauthorized('alg_not_allowed');
      }
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error;
      throw unauthorized(reasonOf(error), error);
    }
    const result = this.toAuthenticated(payload);
    this.cache.set(token, result, result.expiresAt);
    return result;
  }

  /**
   * The static keys a token may be signed with: of its algorithm, the one its `kid` names
   * first, then those without a `kid` (so a key without one, listed first, does not shadow the
   * key a token names, and keys rotated without kids are each tried).
   */
  private keysFor(alg: string, kid: string | undefined): KeyObject[] {
    const ofAlg = this.staticKeys.filter((k) => k.alg === alg);
    const named = kid === undefined ? [] : ofAlg.filter((k) => k.kid === kid);
    const unnamed = ofAlg.filter((k) => kid === undefined || k.kid === undefined);
    return [...new Set([...named, ...unnamed])].map((k) => k.key);
  }

  private toAuthenticated(p: JWTPayload): Authenticated {
    const subject = String(p.sub);
    const scope = p.scope ?? p.scp;
    const scopes =
      typeof scope === 'string'
        ? scope.split(' ').filter(Boolean)
        : Array.isArray(scope)
          ? scope.map(String)
          : [];
    const rawRoles = p[this.config.rolesClaim];
    const roles = Array.isArray(rawRoles)
      ? rawRoles.map(String)
      : typeof rawRoles === 'string'
        ? [rawRoles]
        : [];
    if (!SAFE.test(subject) || !scopes.every((s) => SAFE.test(s)) || !roles.every((r) => SAFE.test(r))) {
      throw unauthorized('invalid_claims');
    }
    const identity: Identity = { subject, kind: 'user', scopes, roles };
    if (typeof p.tid === 'string' && SAFE.test(p.tid)) identity.tenant = p.tid;
    return { identity, clientKey: `user:${subject}`, expiresAt: (p.exp ?? 0) * 1000 };
  }
}

/** Verifies against each key in turn; only a wrong signature moves on to the next key. */
async function verifyWithAny(
  token: string,
  keys: KeyObject[],
  options: Parameters<typeof jwtVerify>[2],
): Promise<JWTPayload> {
  let failure: unknown;
  for (const key of keys) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw error;
      failure = error;
    }
  }
  throw failure;
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claim === 'nbf' ? 'not_yet_valid' : 'claim_invalid';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'signature';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'alg_not_allowed';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'no_key';
    default:
      return 'malformed';
  }
}
