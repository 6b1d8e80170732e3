/**
 * The instances an aggregator talks to. A remote target is a service instance reached over
 * HTTP (its `/ops/*` API and its `/metrics`); a local target is an {@link OpsApi} in the
 * aggregator's own process (the gateway's), reached without a socket through Fastify's
 * `inject`. Both answer the same requests.
 */
import { createService, currentRequestContext, IDENTITY_TOKEN_HEADER, type Service } from '@trellis/service';
import { OpsUpstreamError } from './errors.js';
import type { OpsApi } from './ops-api.js';

/** An answer from a target. */
export interface TargetAnswer {
  status: number;
  body: unknown;
}

/** One instance the aggregator reads. */
export interface OpsTarget {
  /** `orders#1`, `gateway`. */
  readonly id: string;
  readonly service: string;
  /** Calls its ops API. Throws `OpsUpstreamError` when it cannot be reached. */
  request(method: string, path: string, options?: { body?: unknown; token?: string }): Promise<TargetAnswer>;
  /** Its Prometheus exposition. Throws when it cannot be scraped. */
  metrics(): Promise<string>;
}

/** Options of {@link remoteTarget}. */
export interface RemoteTargetOptions {
  id: string;
  service: string;
  /** Base URL (`http://127.0.0.1:3004`). */
  url: string;
  timeoutMs?: number;
}

/**
 * A service instance over HTTP. Requests carry the identity token of the request being
 * served (the operator's), or `options.token` outside one.
 */
export function remoteTarget(o: RemoteTargetOptions): OpsTarget {
  const timeoutMs = o.timeoutMs ?? 3000;
  return {
    id: o.id,
    service: o.service,
    async request(method, path, options = {}) {
      const token = currentRequestContext()?.identityToken ?? options.token;
      let res: Response;
      try {
        res = await fetch(`${o.url}${path}`, {
          method,
          headers: {
            ...(token ? { [IDENTITY_TOKEN_HEADER]: token } : {}),
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw unreachable(o.id, error);
      }
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // A non-JSON answer (a proxy's error page) is passed on as text.
      }
      return { status: res.status, body };
    },
    async metrics() {
      let res: Response;
      try {
        res = await fetch(`${o.url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw unreachable(o.id, error);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new OpsUpstreamError(o.id, `/metrics answered ${res.status}`, { status: res.status });
      }
      return res.text();
    },
  };
}

/** `fetch failed` says nothing: name the cause (`connect ECONNREFUSED 127.0.0.1:3004`, a timeout). */
function unreachable(id: string, error: unknown): OpsUpstreamError {
  const e = error as Error & { cause?: { message?: string } };
  const why = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
  return new OpsUpstreamError(id, `unreachable (${why})`, { cause: error });
}

/**
 * An ops API in this process (e.g. the gateway's), served by a socket-less service whose
 * routes are called through `inject`. Callers have been authorised by the aggregator already.
 */
export function localTarget(o: {
  ops: OpsApi;
  /** The process's Prometheus exposition. */
  metrics: () => Promise<string>;
}): OpsTarget & { readonly host: Service } {
  const host = createService({
    name: o.ops.service,
    routes: o.ops.routes(),
    metrics: false,
    tracing: false,
    idempotency: false,
    openapi: false,
    accessLog: false,
    logger: { level: 'warn' },
  });
  o.ops.attach(host);
  return {
    id: o.ops.instance,
    service: o.ops.service,
    host,
    async request(method, path, options = {}) {
      const res = await host.app.inject({
        method: method as 'GET',
        url: path,
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
    },
    metrics: o.metrics,
  };
}
