/**
 * The gateway's own answers: JSON in the Trellis error shape, with `X-Request-Id`, the CORS
 * and rate-limit headers already decided, and the protocol headers each status calls for
 * (`WWW-Authenticate`, `Allow`, `Retry-After`, `Connection: close` after a refused body).
 */
import type { ServerResponse } from 'node:http';
import { toErrorResponse } from '@trellis/service';

/** Writes a JSON answer with its length. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * Answers `error` (or cuts the connection when the answer already started). Returns the
 * status and error code sent.
 */
export function writeError(
  res: ServerResponse,
  error: unknown,
  requestId: string,
  extraHeaders: Record<string, string> | undefined,
): { status: number; code: string } {
  const r = toErrorResponse(error);
  const code = r.body.error.code;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return { status: r.status, code };
  }
  const headers: Record<string, string> = { ...extraHeaders, ...r.headers, 'x-request-id': requestId };
  if (r.status === 401) {
    const reason = (error as { details?: { reason?: string } }).details?.reason;
    headers['www-authenticate'] = reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
  }
  if (r.status === 403) headers['www-authenticate'] = 'Bearer error="insufficient_scope"';
  if (r.status === 405) headers.allow = ((error as { allow?: readonly string[] }).allow ?? []).join(', ');
  // The unread rest of a refused body is not drained: the connection is closed instead.
  if (r.status === 413) headers.connection = 'close';
  writeJson(res, r.status, r.body, headers);
  return { status: r.status, code };
}
