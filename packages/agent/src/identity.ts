/**
 * The end user a run acts for. Every tool call executes with this identity and its
 * permissions only: the identity comes from the caller (the gateway-verified user), never from
 * the model, so no prompt can widen it.
 */
import { ForbiddenError, UnauthorizedError } from '@trellis/core';
import { z } from 'zod';

/** The authenticated end user, as the service edge (or an MCP transport) learned it. */
export interface UserIdentity {
  /** Stable user id; tools use it to scope every read and write. */
  readonly id: string;
  /** Granted permissions, e.g. `orders:read`, `orders:cancel`, `orders:read:any`. */
  readonly permissions: readonly string[];
  readonly roles?: readonly string[];
  readonly tenantId?: string;
  readonly name?: string;
  /**
   * Headers that carry the user's credentials to downstream services, forwarded by
   * `ctx.headers()`: e.g. `{ authorization: 'Bearer …' }`, or the gateway's signed
   * `{ 'x-trellis-identity': token }`. Never persisted: a resumed run gets them from the
   * resuming caller.
   */
  readonly credentials?: Readonly<Record<string, string>>;
}

/** Schema of a {@link UserIdentity} as it crosses a process boundary (e.g. stdio env). */
export const userIdentitySchema = z.object({
  id: z.string().min(1),
  permissions: z.array(z.string().min(1)),
  roles: z.array(z.string()).optional(),
  tenantId: z.string().optional(),
  name: z.string().optional(),
});

/**
 * A frozen view of the user with permission checks, handed to every tool as `ctx.user`.
 *
 * @example
 * ```ts
 * execute: async ({ customerId }, { user }) => {
 *   user.requireSelfOr(customerId ?? user.id, 'orders:read:any');
 *   return orders.search({ customerId: customerId ?? user.id });
 * }
 * ```
 */
export class Principal {
  readonly id: string;
  // Private, so not even a cast lets a tool add to it (Object.freeze is shallow).
  readonly #permissions: Set<string>;
  readonly roles: readonly string[];
  readonly tenantId: string | undefined;
  readonly name: string | undefined;
  /** Credential headers to forward (see {@link UserIdentity.credentials}). */
  readonly credentials: Readonly<Record<string, string>> | undefined;

  constructor(identity: UserIdentity) {
    if (typeof identity.id !== 'string' || identity.id === '') {
      throw new UnauthorizedError('A run needs an authenticated user id');
    }
    this.id = identity.id;
    this.#permissions = new Set(identity.permissions);
    this.roles = Object.freeze([...(identity.roles ?? [])]);
    this.tenantId = identity.tenantId;
    this.name = identity.name;
    this.credentials = identity.credentials ? Object.freeze({ ...identity.credentials }) : undefined;
    Object.freeze(this);
  }

  /** The granted permissions (a copy). */
  get permissions(): ReadonlySet<string> {
    return new Set(this.#permissions);
  }

  /** True when the user holds `permission`. */
  can(permission: string): boolean {
    return this.#permissions.has(permission);
  }

  /** True when the user holds every one of `permissions`. */
  canAll(permissions: readonly string[]): boolean {
    return permissions.every((p) => this.#permissions.has(p));
  }

  /** Throws `ForbiddenError` when the user lacks `permission`. */
  require(permission: string): void {
    if (!this.can(permission)) throw new ForbiddenError(`Permission "${permission}" is required`);
  }

  /**
   * Allows acting on `ownerId`'s data only when it is the user's own, or the user holds
   * `permission` (e.g. staff reading any customer's orders). Throws `ForbiddenError` otherwise.
   */
  requireSelfOr(ownerId: string, permission: string): void {
    if (ownerId !== this.id && !this.can(permission)) {
      throw new ForbiddenError(`Not allowed to act on another user's data (needs "${permission}")`);
    }
  }

  /** The identity without credentials: what a run record stores. */
  toJSON(): UserIdentity {
    const out: { -readonly [K in keyof UserIdentity]: UserIdentity[K] } = {
      id: this.id,
      permissions: [...this.#permissions],
    };
    if (this.roles.length > 0) out.roles = [...this.roles];
    if (this.tenantId !== undefined) out.tenantId = this.tenantId;
    if (this.name !== undefined) out.name = this.name;
    return out;
  }
}

/** Wraps an identity in a {@link Principal} (returns it unchanged if it already is one). */
export function toPrincipal(user: UserIdentity | Principal): Principal {
  return user instanceof Principal ? user : new Principal(user);
}
