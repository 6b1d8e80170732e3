/**
 * An HTTP client that sends exactly what it is given (bodies as raw text, any content type,
 * repeated headers, a chosen loopback source address), for the security tests. `fetch`
 * normalises too much to attack with.
 */
import { Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';

/** An answer, read whole. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

/** What to send. */
export interface RawRequest {
  method: string;
  /** Path and query, already percent-encoded. */
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Source address (any of 127.0.0.0/8): per-IP limits see another client. */
  localAddress?: string;
  timeoutMs?: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** Sends `r` to `baseUrl` and reads the whole answer; rejects only on network failure or timeout. */
export function send(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: OutgoingHttpHeaders = { ...r.headers };
  if (r.body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = Buffer.byteLength(r.body);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers,
        agent,
        ...(r.localAddress ? { localAddress: r.localAddress } : {}),
        timeout: r.timeoutMs ?? 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          if ((res.headers['content-type'] ?? '').includes('json')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${r.method} ${r.path} timed out`)));
    req.on('error', reject);
    if (r.body !== undefined) req.end(r.body);
    else req.end();
  });
}

/** Replaces `:name` segments of a route path with the given (already encoded) values. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => params[name] ?? 'x');
}

/** A query string from name → value pairs (values encoded here; repeated names allowed). */
export function queryString(
  pairs: ReadonlyArray<readonly [string, string]>,
  encode = encodeURIComponent,
): string {
  if (pairs.length === 0) return '';
  return `?${pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')}`;
}

/** Source addresses to rotate through, so per-IP rate limits do not starve a test. */
export function loopbackAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}`);
}
