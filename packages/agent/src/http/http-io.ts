/** Small HTTP helpers for the agent's Node handlers: JSON bodies in, JSON and errors out. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTrellisError, ValidationError } from '@trellis/core';
import { PayloadTooLargeError } from '../errors.js';

/**
 * Reads and parses a JSON body (or takes one a framework already parsed). Throws
 * `ValidationError` for malformed JSON, `PayloadTooLargeError` past `limit` bytes.
 */
export async function readJsonBody(
  req: IncomingMessage,
  parsed: unknown,
  limit = 1_048_576,
): Promise<unknown> {
  if (parsed !== undefined) return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('Invalid body: not valid JSON', [{ path: '', message: 'not valid JSON' }]);
  }
}

/** Sends a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends an error as `{ error: { code, message, details } }` with its status; hides non-Trellis errors. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (isTrellisError(err)) sendJson(res, err.status, err.toJSON());
  else sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
}

/** True when the client asked for an event stream. */
export function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

/** An AbortSignal that fires when the client disconnects before the response is finished. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
