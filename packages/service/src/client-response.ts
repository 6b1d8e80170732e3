/**
 * How a typed client reads an upstream's answer: 2xx is parsed (and checked against the
 * response schema), a typed 4xx becomes a {@link RemoteError} with the upstream's own code and
 * status, anything else becomes an {@link UpstreamError} (a breaker failure, retryable when the
 * method allows).
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { RemoteError, UpstreamError } from './errors.js';

/** Reads the body as text (bounded), releasing the connection in every case. */
async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new Error(`response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Turns an undici response into the call's result or a typed error. */
export async function readResponse(
  upstream: string,
  res: Dispatcher.ResponseData,
  schema: z.ZodType | undefined,
  maxBytes: number,
): Promise<unknown> {
  let text: string;
  try {
    text = await readText(res.body, maxBytes);
  } catch (error) {
    throw new UpstreamError(upstream, `Reading the response of ${upstream} failed`, res.statusCode, {
      cause: error,
    });
  }
  const status = res.statusCode;
  const type = String(res.headers['content-type'] ?? '');
  let json: unknown;
  if (text.length > 0 && type.includes('json')) {
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new UpstreamError(upstream, `${upstream} answered invalid JSON`, status, { cause: error });
    }
  }
  if (status >= 200 && status < 300) {
    if (!schema) return json ?? (text.length > 0 ? text : undefined);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new UpstreamError(
        upstream,
        `${upstream} answered a body that does not match the schema`,
        status,
        {
          cause: parsed.error,
          details: { upstream, status, reason: 'invalid_response' },
        },
      );
    }
    return parsed.data;
  }
  if (status >= 400 && status < 500) {
    const err = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
      ?.error;
    const code = typeof err?.code === 'string' ? err.code : `HTTP_${status}`;
    const message = typeof err?.message === 'string' ? err.message : `${upstream} answered ${status}`;
    const remote = new RemoteError(upstream, code, message, status, err?.details);
    const after = retryAfterMs(res.headers['retry-after']);
    if (after !== undefined) Object.assign(remote, { retryAfterMs: after });
    throw remote;
  }
  throw new UpstreamError(upstream, `${upstream} answered ${status}`, status, {
    details: { upstream, status, error: (json as { error?: unknown } | undefined)?.error },
  });
}
