/**
 * Who is calling and may they: reads `Authorization: Bearer` or `X-API-Key`, verifies through
 * the {@link Authenticator} (synchronously when the token is cached), and checks the route's
 * requirement (401 without a caller, 403 without the scopes or roles).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ForbiddenError, UnauthorizedError } from '@trellis/core';
import type { Authenticated, Authenticator } from './authenticator.js';
import type { RouteConfig } from './config.js';

/** What a route requires of its caller. */
export type RouteAuth = RouteConfig['auth'];

function notConfigured(): UnauthorizedError {
  return new UnauthorizedError('Authentication is not configured', { details: { reason: 'not_configured' } });
}

/**
 * The caller of a request, checked against `need`: synchronously when the credential is cached
 * or absent, a promise only when a token must be verified.
 *
 * Throws (or rejects with) `UnauthorizedError` for missing or invalid credentials and
 * `ForbiddenError` for missing scopes or roles. Invalid credentials are refused even on public
 * routes.
 */
export function authenticateRequest(
  authenticator: Authenticator | undefined,
  headers: IncomingHttpHeaders,
  need: RouteAuth,
): Authenticated | undefined | Promise<Authenticated | undefined> {
  const authz = headers.authorization;
  if (authz !== undefined) {
    if (!authenticator) throw notConfigured();
    if (authz.length < 8 || authz.slice(0, 7).toLowerCase() !== 'bearer ') {
      throw new UnauthorizedError('Bearer token expected', { details: { reason: 'malformed' } });
    }
    const token = authz.slice(7).trim();
    const hit = authenticator.cached(token);
    if (hit) return authorize(hit, need);
    return authenticator.verify(token).then((auth) => authorize(auth, need));
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string') {
    if (!authenticator) throw notConfigured();
    return authorize(authenticator.apiKey(apiKey), need);
  }
  return authorize(undefined, need);
}

/** Throws 401 when a route needs a caller and there is none, 403 when scopes or roles are missing. */
export function authorize(auth: Authenticated | undefined, need: RouteAuth): Authenticated | undefined {
  if (need === 'public') return auth;
  if (!auth) throw new UnauthorizedError('Authentication required', { details: { reason: 'missing' } });
  if (need !== 'required') {
    const id = auth.identity;
    const missing = need.scopes?.filter((s) => !id.scopes.includes(s)) ?? [];
    if (missing.length) throw new ForbiddenError('Missing scope', { details: { missingScopes: missing } });
    if (need.roles?.length && !need.roles.some((r) => id.roles.includes(r))) {
      throw new ForbiddenError('Missing role', { details: { requiredRoles: need.roles } });
    }
  }
  return auth;
}
