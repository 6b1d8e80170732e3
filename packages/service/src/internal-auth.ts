/**
 * The service side of service-to-service trust. Plain identity headers are always removed
 * from incoming requests (a handler can never read a forged `X-User-Id`); the only identity a
 * handler sees comes from a verified internal token. In `required` mode a request without a
 * valid token is refused (401) before any handler or body parsing runs.
 */
import { UnauthorizedError } from '@trellis/core';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './errors.js';
import { IDENTITY_HEADERS, IDENTITY_TOKEN_HEADER, InternalTokenVerifier } from './internal-token.js';

/** How a service treats internal identity tokens. */
export type InternalAuthMode =
  /** No identity: tokens are ignored (and stripped). */
  | 'off'
  /** A valid token sets the identity; an invalid one is refused; none means anonymous. */
  | 'optional'
  /** Every request (except health, metrics and the OpenAPI document) needs a valid token. */
  | 'required';

/** Options of {@link installInternalAuth}. */
export interface InternalAuthOptions {
  mode: InternalAuthMode;
  /** Needed unless `mode` is `off`. */
  verifier?: InternalTokenVerifier;
  /** Path prefixes that never need a token. Default: `/health/`, `/metrics`, `/openapi.json`. */
  exempt?: readonly string[];
}

/** Installs the identity hook. Throws `RangeError` when a mode other than `off` has no verifier. */
export function installInternalAuth(app: FastifyInstance, options: InternalAuthOptions): void {
  const { mode, verifier } = options;
  if (mode !== 'off' && !verifier) throw new RangeError(`internalAuth mode "${mode}" needs a verifier`);
  const exempt = options.exempt ?? ['/health/', '/metrics', '/openapi.json'];
  app.addHook('onRequest', async (request) => {
    const headers = request.headers;
    const raw = headers[IDENTITY_TOKEN_HEADER];
    for (const h of IDENTITY_HEADERS) delete headers[h];
    delete headers[IDENTITY_TOKEN_HEADER];
    if (mode === 'off' || !verifier) return;
    const token = Array.isArray(raw) ? undefined : raw;
    if (Array.isArray(raw))
      throw new UnauthorizedError('Several identity tokens', { details: { reason: 'ambiguous' } });
    if (token === undefined) {
      if (mode === 'required' && !exempt.some((p) => request.url.startsWith(p))) {
        throw new UnauthorizedError('Internal identity token required', { details: { reason: 'missing' } });
      }
      return;
    }
    request.trellis.identity = await verifier.verify(token);
    request.trellis.identityToken = token;
  });
}

/**
 * Internal-auth options from the standard environment variables (`INTERNAL_AUTH`,
 * `INTERNAL_TOKEN_SECRET` of `serviceConfigSchema`).
 *
 * Throws `ConfigError` when a mode other than `off` has no secret.
 *
 * @example
 * ```ts
 * const config = loadConfigOrExit(serviceConfigSchema);
 * createService({ name: 'orders', routes, internalAuth: internalAuthFromConfig(config) });
 * ```
 */
export function internalAuthFromConfig(config: {
  INTERNAL_AUTH: InternalAuthMode;
  INTERNAL_TOKEN_SECRET?: string | undefined;
}): InternalAuthOptions {
  if (config.INTERNAL_AUTH === 'off') return { mode: 'off' };
  if (!config.INTERNAL_TOKEN_SECRET) {
    throw new ConfigError([
      `INTERNAL_TOKEN_SECRET: required when INTERNAL_AUTH is "${config.INTERNAL_AUTH}" (not set)`,
    ]);
  }
  return {
    mode: config.INTERNAL_AUTH,
    verifier: new InternalTokenVerifier({ key: config.INTERNAL_TOKEN_SECRET }),
  };
}
