/**
 * Who the assistant acts for. The gateway verifies the user's JWT and forwards a signed
 * internal identity token; the assistant's service runtime verifies that token, and this module
 * turns the verified identity into the agent's `UserIdentity`: the user id, agent permissions
 * derived from the shop role, and the token itself as the credential every tool forwards, so
 * the services the tools call check the same user again. The model never supplies any of it.
 */
import type { UserIdentity } from '@trellis/agent';
import { AGENT_PERMISSIONS } from '@trellis/agent';
import { IDENTITY_TOKEN_HEADER, type Identity } from '@trellis/service';
import { ADMIN_ROLE, CUSTOMER_ROLE } from '../../platform/identity.js';

/** The agent permissions the shop's tools declare. */
export const SHOP_PERMISSIONS = {
  /** Read one's own orders. */
  readOrders: 'orders:read',
  /** Read any customer's orders (staff); the orders service enforces the same rule. */
  readAnyOrders: 'orders:read:any',
  /** Ask to cancel one's own orders (always with a human's approval). */
  cancelOrders: 'orders:cancel',
} as const;

/** Permissions of a customer: their own orders, and the public catalog (no permission needed). */
const CUSTOMER_PERMISSIONS = [SHOP_PERMISSIONS.readOrders, SHOP_PERMISSIONS.cancelOrders];
/** Admins also see every customer's orders and every assistant run (support, audit). */
const ADMIN_PERMISSIONS = [
  ...CUSTOMER_PERMISSIONS,
  SHOP_PERMISSIONS.readAnyOrders,
  AGENT_PERMISSIONS.readAnyRun,
];

/**
 * The agent permissions of a set of shop roles. They decide which tools the model is offered;
 * the services still decide what each call may see or change.
 *
 * @example
 * ```ts
 * permissionsFor(['customer']); // ['orders:read', 'orders:cancel']
 * ```
 */
export function permissionsFor(roles: readonly string[]): string[] {
  if (roles.includes(ADMIN_ROLE)) return [...ADMIN_PERMISSIONS];
  if (roles.includes(CUSTOMER_ROLE)) return [...CUSTOMER_PERMISSIONS];
  return [];
}

/**
 * The end user of a request the runtime authenticated, with the internal token it verified as
 * the credential to forward; undefined for no identity, an anonymous caller or a service (the
 * assistant serves people, and a service token must never become a tool's credential).
 *
 * @example
 * ```ts
 * const user = assistantUser(request.trellis.identity, request.trellis.identityToken);
 * if (!user) throw new UnauthorizedError();
 * ```
 */
export function assistantUser(
  identity: Identity | undefined,
  token: string | undefined,
): UserIdentity | undefined {
  if (!identity || !token || (identity.kind !== 'user' && identity.kind !== 'api-key')) return undefined;
  return {
    id: identity.subject,
    permissions: permissionsFor(identity.roles),
    roles: [...identity.roles],
    ...(identity.tenant ? { tenantId: identity.tenant } : {}),
    credentials: { [IDENTITY_TOKEN_HEADER]: token },
  };
}
