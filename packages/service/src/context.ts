/**
 * The per-request context: who is calling (the verified identity), which request and
 * correlation ids and deadline it carries, and the logger bound to it. It lives in an
 * `AsyncLocalStorage`, so a typed client called deep inside a handler forwards the caller's
 * identity, trace and deadline without the handler passing anything along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** A verified caller: a user, an API key or a service. Only ever built from a verified token. */
export interface Identity {
  /** Stable id of the caller (user id, API key id, service name). */
  subject: string;
  /**
   * What kind of caller this is. `anonymous` marks a request that passed the gateway without
   * credentials (on a public route): it proves where the request came from, not who sent it.
   */
  kind: 'user' | 'api-key' | 'service' | 'anonymous';
  scopes: readonly string[];
  roles: readonly string[];
  /** Tenant or organisation, when the issuer sets one. */
  tenant?: string;
}

/** What a handler knows about its request beyond the parsed parts. */
export interface RequestContext {
  /** This hop's request id (`X-Request-Id`). */
  readonly requestId: string;
  /** Id shared by every hop of one user action (`X-Correlation-Id`); defaults to the request id. */
  readonly correlationId: string;
  /** The verified caller, when the request carried a valid internal identity token. */
  readonly identity: Identity | undefined;
  /** The internal identity token as received, forwarded to upstreams by typed clients. */
  readonly identityToken: string | undefined;
  /** Absolute end of the request's time budget (clock ms), from the deadline header. */
  readonly deadline: number | undefined;
  /** `Idempotency-Key` of the request, when one was sent. */
  readonly idempotencyKey: string | undefined;
  /** Aborts when the client goes away or the deadline passes; pass it to slow work. */
  readonly signal: AbortSignal;
  /** Logger bound to this request (request id, trace id). */
  readonly log: Logger;
  /** Sets a response header. */
  setHeader(name: string, value: string): void;
  /** Overrides the success status of this response. */
  setStatus(status: number): void;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being handled, or undefined outside a request. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current request context. */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}
