/**
 * Maps any thrown value to the stable error answer `{ error: { code, message, details } }`
 * with the right status. Trellis errors speak for themselves (`status`, `toJSON()`); errors
 * that carry `retryAfterMs` (breaker open, rate limited, draining) add `Retry-After`;
 * framework errors (bad JSON, body too large) get a code; anything else is a 500 whose
 * message is not leaked to the client.
 */
import { isTrellisError } from '@trellis/core';

/** An error answer ready to send. */
export interface ErrorResponse {
  status: number;
  body: { error: { code: string; message: string; details?: unknown } };
  headers: Record<string, string>;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

/** The `Retry-After` value (whole seconds, at least 1) for a delay in milliseconds. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** Builds the error answer for `error`. */
export function toErrorResponse(error: unknown): ErrorResponse {
  const headers: Record<string, string> = {};
  if (isTrellisError(error)) {
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    if (
      (error.status === 503 || error.status === 429 || error.status === 409) &&
      typeof retryAfterMs === 'number'
    ) {
      headers['retry-after'] = retryAfterSeconds(retryAfterMs);
    }
    const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
    return { status, body: error.toJSON(), headers };
  }
  const e = error as { statusCode?: unknown; status?: unknown; message?: unknown; code?: unknown } | null;
  const raw =
    typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.status === 'number' ? e.status : 500;
  const status = raw >= 400 && raw <= 599 ? raw : 500;
  if (status >= 500) {
    return { status, body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } }, headers };
  }
  const message = typeof e?.message === 'string' ? e.message : 'Bad request';
  const code = CODE_BY_STATUS[status] ?? 'BAD_REQUEST';
  return { status, body: { error: { code, message } }, headers };
}
