/**
 * Who a shop service is when it calls another service on its own behalf (a saga step, a
 * consumer, a background job): an internal identity token of kind `service` with the role
 * `service`, signed with the same secret the gateway signs user identities with. Internal
 * endpoints (reserve stock, charge a card) require that role, so a user token forwarded by
 * mistake, or a request that bypassed the gateway, is refused.
 */
import { type Clock, systemClock } from '@trellis/core';
import type { Identity, RequestContext } from '@trellis/service';
import { InternalTokenSigner, newRequestId, runWithRequestContext } from '@trellis/service';
import type { Logger } from 'pino';

/** The role every service identity holds; internal endpoints require it. */
export const SERVICE_ROLE = 'service';
/** The role of shop administrators. */
export const ADMIN_ROLE = 'admin';
/** The role of shop customers. */
export const CUSTOMER_ROLE = 'customer';

/** Endpoint auth for internal, service-to-service endpoints. */
export const serviceOnly = { roles: [SERVICE_ROLE] } as const;
/** Endpoint auth for admin endpoints. */
export const adminOnly = { roles: [ADMIN_ROLE] } as const;
/** Endpoint auth for endpoints both services and admins may call. */
export const serviceOrAdmin = { roles: [SERVICE_ROLE, ADMIN_ROLE] } as const;

/**
 * A service's own identity.
 *
 * @example
 * ```ts
 * const me = new ServiceIdentity('orders', process.env.INTERNAL_TOKEN_SECRET!, logger);
 * await me.run({ correlationId: orderId }, () => inventory.reserve({ body }, { idempotencyKey }));
 * ```
 */
export class ServiceIdentity {
  readonly identity: Identity;
  private readonly signer: InternalTokenSigner;

  /** Throws `RangeError` when the secret is shorter than 32 bytes. */
  constructor(
    readonly name: string,
    secret: string,
    private readonly log: Logger,
    clock: Clock = systemClock,
  ) {
    this.signer = new InternalTokenSigner({ key: secret, ttlSeconds: 300, clock });
    this.identity = { subject: name, kind: 'service', scopes: [], roles: [SERVICE_ROLE] };
  }

  /** A valid token for this service (cached until half its lifetime is left). */
  token(): Promise<string> {
    return this.signer.sign(this.identity);
  }

  /**
   * Runs `fn` as this service: typed clients called inside send this service's token, the
   * given correlation id, and no deadline of whatever request happened to start the work.
   */
  async run<T>(options: { correlationId?: string; signal?: AbortSignal }, fn: () => Promise<T>): Promise<T> {
    const token = await this.token();
    const requestId = newRequestId();
    const ctx: RequestContext = {
      requestId,
      correlationId: options.correlationId ?? requestId,
      identity: this.identity,
      identityToken: token,
      deadline: undefined,
      idempotencyKey: undefined,
      signal: options.signal ?? new AbortController().signal,
      log: this.log,
      setHeader: () => {},
      setStatus: () => {},
    };
    return runWithRequestContext(ctx, fn);
  }
}
