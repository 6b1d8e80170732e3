/**
 * The shop's service registry: every process the supervisor can start, its default port, the
 * module that builds it and the gateway prefixes routed to it. One table, read by the
 * supervisor (what to spawn), the gateway (where to route) and the services themselves (whom
 * to call), so adding a service is one entry here.
 */

/** Names of the shop's backend services (each has its own database). */
export const BACKEND_SERVICES = [
  'users',
  'catalog',
  'inventory',
  'orders',
  'payments',
  'shipping',
  'notifications',
] as const;

/** A backend service's name. */
export type BackendService = (typeof BACKEND_SERVICES)[number];

/**
 * The assistant (`@trellis/agent`): behind the gateway at `/api/assistant/*`, with its own
 * database for runs and pending approvals, but no events of its own (the invariant checker
 * does not read it).
 */
export const ASSISTANT = 'assistant' as const;

/** Every name a service process can have. */
export type ServiceName = BackendService | typeof ASSISTANT;

/** One routable service. */
export interface ServiceSlot {
  name: ServiceName;
  /** Offset from the port base: `users` listens on base + 1 by default. */
  portOffset: number;
  /**
   * Module (relative to `apps/shop/src/services/`) exporting `build(env)`; undefined for a
   * reserved slot that has no implementation yet.
   */
  module: string | undefined;
  /** One line for the banner and the README. */
  description: string;
  /** Whether the service keeps its own database (the invariant checker reads these). */
  database: boolean;
}

/** The registry, in start order. */
export const SERVICE_SLOTS: readonly ServiceSlot[] = [
  {
    name: 'users',
    portOffset: 1,
    module: 'users/users-service.js',
    description: 'sign-up, log-in (scrypt), JWTs, profiles',
    database: true,
  },
  {
    name: 'catalog',
    portOffset: 2,
    module: 'catalog/catalog-service.js',
    description: 'products, prices, search',
    database: true,
  },
  {
    name: 'inventory',
    portOffset: 3,
    module: 'inventory/inventory-service.js',
    description: 'stock, reservations',
    database: true,
  },
  {
    name: 'orders',
    portOffset: 4,
    module: 'orders/orders-service.js',
    description: 'event-sourced orders, place-order saga, read model',
    database: true,
  },
  {
    name: 'payments',
    portOffset: 5,
    module: 'payments/payments-service.js',
    description: 'charges and refunds against the card-processor simulator',
    database: true,
  },
  {
    name: 'shipping',
    portOffset: 6,
    module: 'shipping/shipping-service.js',
    description: 'shipments',
    database: true,
  },
  {
    name: 'notifications',
    portOffset: 7,
    module: 'notifications/notifications-service.js',
    description: 'order lifecycle notifications (choreography)',
    database: true,
  },
  {
    name: ASSISTANT,
    portOffset: 8,
    module: 'assistant/assistant-service.js',
    description: 'AI shop assistant and MCP server (tools act with the user’s own rights)',
    database: true,
  },
];

/** The slot of `name`; throws for an unknown name. */
export function slotOf(name: string): ServiceSlot {
  const slot = SERVICE_SLOTS.find((s) => s.name === name);
  if (!slot) throw new Error(`Unknown shop service "${name}"`);
  return slot;
}

/** Slots that can be started (reserved ones without a module are skipped). */
export function runnableSlots(): ServiceSlot[] {
  return SERVICE_SLOTS.filter((s) => s.module !== undefined);
}

/** Default gateway port. */
export const DEFAULT_GATEWAY_PORT = 8080;
/** Default base of the service ports: users on 3001, catalog on 3002, … */
export const DEFAULT_PORT_BASE = 3000;
/** Replica `r` of a service listens `r × REPLICA_PORT_STRIDE` above replica 0. */
export const REPLICA_PORT_STRIDE = 100;

/** The default port of replica `replica` of `name` for a port base. */
export function defaultPort(name: ServiceName, base = DEFAULT_PORT_BASE, replica = 0): number {
  return base + slotOf(name).portOffset + replica * REPLICA_PORT_STRIDE;
}
