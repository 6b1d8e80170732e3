/**
 * The internal identity token sent to upstreams, cached on the verified caller (or on the
 * shared anonymous identity) and re-signed at half its lifetime, so the hot path neither
 * signs nor builds a cache key.
 */
import type { Clock } from '@trellis/core';
import type { InternalTokenSigner } from '@trellis/service';
import type { Authenticated } from './authenticator.js';

/** The caller of requests without credentials on public routes. */
const anonymous: Authenticated = {
  identity: { subject: 'anonymous', kind: 'anonymous', scopes: [], roles: [] },
  clientKey: '',
  expiresAt: Number.POSITIVE_INFINITY,
};

/** The token for `auth` (anonymous when undefined): a string when cached, else a promise. */
export function internalTokenFor(
  signer: InternalTokenSigner,
  auth: Authenticated | undefined,
  clock: Clock,
  ttlSeconds: number,
): string | Promise<string> {
  const now = clock.now();
  const holder = auth ?? anonymous;
  if (holder.internalToken && (holder.internalTokenRefreshAt ?? 0) > now) return holder.internalToken;
  return signer.sign(holder.identity).then((token) => {
    holder.internalToken = token;
    holder.internalTokenRefreshAt = now + (ttlSeconds * 1000) / 2;
    return token;
  });
}
