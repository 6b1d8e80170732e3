/**
 * What an upstream said when it failed. A typed 4xx arrives as a `RemoteError` carrying the
 * upstream's own code; a 5xx arrives as an `UpstreamError` (code `UPSTREAM_FAILED`) whose
 * details keep the upstream's error body. This reads the upstream's code in both cases, so a
 * caller can tell "payments is down" from "payments says the card processor is down".
 */
import { isTrellisError } from '@trellis/core';
import { isUpstreamError } from '@trellis/service';

/** The error code the upstream itself answered with, else the error's own code. */
export function upstreamCode(error: unknown): string | undefined {
  if (isUpstreamError(error)) {
    const inner = (error.details as { error?: { code?: unknown } } | undefined)?.error?.code;
    if (typeof inner === 'string') return inner;
  }
  return isTrellisError(error) ? error.code : undefined;
}

/** True when an upstream answered that one of *its* dependencies is unavailable (it is alive itself). */
export function answeredUnavailable(error: unknown, codes: readonly string[]): boolean {
  return isUpstreamError(error) && codes.includes(upstreamCode(error) ?? '');
}
