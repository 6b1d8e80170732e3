/**
 * A shop arranged for chaos: in distributed mode the harness starts PostgreSQL (durable
 * commits), NATS JetStream and Redis itself — so it holds their handles and can kill, pause and
 * restart them — then the shop on them, with orders replicated and chosen instances isolated
 * (network namespaces and fault proxies, see {@link Isolation}). In embedded mode it is the
 * plain `npm start` shop on SQLite. Either way every process is a real child process under the
 * shop's own supervisor, which restarts what dies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEMO_USERS,
  type RunningShop,
  ShopApi,
  type Supervisor,
  startShop,
  type Topology,
} from '@trellis/shop';
import {
  type PostgresHandle,
  type ServerHandle,
  startNats,
  startPostgres,
  startRedis,
} from '@trellis/testing';
import { ChaosEnvironmentError } from './errors.js';
import { Isolation } from './isolation.js';
import { NetworkNamespace } from './network-namespace.js';

/** A supervised process of the shop (a service replica or the gateway). */
export type ShopProcess = ReturnType<Supervisor['process']>;

/** Options of {@link startChaosShop}. */
export interface ChaosShopOptions {
  mode: 'distributed' | 'embedded';
  /** Replicas per service (distributed), over the default `{ orders: 2 }`. */
  replicas?: Record<string, number>;
  /** Instances to isolate (distributed), those the shop has. Default `orders#1` and `notifications`. */
  isolate?: readonly string[];
  /**
   * Network namespaces for isolated instances: `auto` uses them when the machine allows (root,
   * `ip`), `required` fails without them, `off` keeps every instance on loopback.
   */
  namespaces?: 'auto' | 'required' | 'off';
  /** Where the shop keeps its data and logs. Default a new temporary directory. */
  dataDir?: string;
  /** Progress lines (server and process events). */
  log?: (line: string) => void;
}

/** The servers the harness started (distributed mode). */
export interface ChaosServers {
  postgres: PostgresHandle;
  nats: ServerHandle;
  redis: ServerHandle;
}

/** A running shop under the harness. */
export interface ChaosShop {
  readonly mode: 'distributed' | 'embedded';
  readonly shop: RunningShop;
  readonly topology: Topology;
  readonly servers: ChaosServers | undefined;
  readonly isolation: Isolation;
  /** Why namespaces are not used, when they are not. */
  readonly namespacesUnavailable: string | undefined;
  readonly dataDir: string;
  /** The public API through the gateway. */
  readonly api: ShopApi;
  /** The process `id` (`orders#1`, `gateway`). Throws for an unknown one. */
  process(id: string): ShopProcess;
  /** Every process, gateway last. */
  processes(): ShopProcess[];
  /** The admin's API client (logged in through the gateway; `fresh` logs in again). */
  admin(fresh?: boolean): Promise<ShopApi>;
  /** Stops the shop, the servers and the isolation; deletes a temporary data directory. */
  stop(): Promise<void>;
}

/**
 * Starts the servers (distributed) and the shop.
 *
 * Throws `ChaosEnvironmentError` when namespaces are `required` but unavailable, or when a
 * server cannot start; the error of the shop's start otherwise (everything started is stopped).
 */
export async function startChaosShop(o: ChaosShopOptions): Promise<ChaosShop> {
  const log = o.log ?? (() => undefined);
  const distributed = o.mode === 'distributed';
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-chaos-'));
  let servers: ChaosServers | undefined;
  let isolation: Isolation | undefined;
  let namespacesUnavailable: string | undefined;
  try {
    const wanted = o.namespaces ?? 'auto';
    if (distributed && wanted !== 'off') {
      await NetworkNamespace.removeStale();
      const probe = await NetworkNamespace.probe();
      if (!probe.ok) {
        namespacesUnavailable = probe.reason;
        if (wanted === 'required')
          throw new ChaosEnvironmentError(`network namespaces are required but unavailable: ${probe.reason}`);
      }
    } else {
      namespacesUnavailable = distributed
        ? 'turned off'
        : 'embedded mode (no network between services and data)';
    }
    if (distributed) {
      log('starting PostgreSQL (durable), NATS JetStream and Redis');
      const [postgres, nats, redis] = await Promise.all([
        startPostgres({ durable: true }),
        startNats(),
        startRedis(),
      ]).catch((error: unknown) => {
        throw new ChaosEnvironmentError(`cannot start the servers: ${(error as Error).message}`, {
          cause: error,
        });
      });
      servers = { postgres, nats, redis };
    }
    const replicas: Record<string, number> = { orders: 2, ...o.replicas };
    // Only instances this shop will have (orders#1 needs two orders replicas).
    const isolate = (o.isolate ?? ['orders#1', 'notifications']).filter((id) => {
      const [service = id, replica = '0'] = id.split('#');
      return Number(replica) < (replicas[service] ?? 1);
    });
    isolation = await Isolation.create(distributed ? isolate : [], namespacesUnavailable === undefined);
    const iso = isolation;
    const shop = await startShop({
      mode: o.mode,
      dataDir,
      gatewayPort: 0,
      portBase: 0,
      ...(distributed ? { replicas } : {}),
      ...(servers
        ? {
            env: {
              ...process.env,
              DATABASE_URL: servers.postgres.url,
              NATS_URL: servers.nats.url,
              REDIS_URL: servers.redis.url,
            },
            databasePrefix: 'chaos',
          }
        : {}),
      adaptTopology: (t) => iso.adaptTopology(t),
      adaptProcess: (spec, target) => iso.adaptProcess(spec, target),
      onEvent: (e) =>
        log(
          e.kind === 'exited'
            ? `${e.id} exited (${e.signal ?? `code ${e.code}`}), restart in ${e.restartInMs} ms`
            : `${e.id} ready in ${e.ms} ms${e.restarts ? ` (restart ${e.restarts})` : ''}`,
        ),
    });
    return chaosShop({ o, shop, servers, isolation: iso, namespacesUnavailable, dataDir });
  } catch (error) {
    await isolation?.close();
    if (servers) await Promise.allSettled(Object.values(servers).map((s) => s.destroy()));
    if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function chaosShop(x: {
  o: ChaosShopOptions;
  shop: RunningShop;
  servers: ChaosServers | undefined;
  isolation: Isolation;
  namespacesUnavailable: string | undefined;
  dataDir: string;
}): ChaosShop {
  const { shop } = x;
  const api = new ShopApi(shop.topology.gatewayUrl);
  let admin: Promise<ShopApi> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    mode: x.o.mode,
    shop,
    topology: shop.topology,
    servers: x.servers,
    isolation: x.isolation,
    namespacesUnavailable: x.namespacesUnavailable,
    dataDir: x.dataDir,
    api,
    process(id) {
      const [service = id, replica = '0'] = id.split('#');
      return shop.supervisor.process(service, Number(replica));
    },
    processes: () => shop.supervisor.all,
    admin(fresh = false) {
      if (fresh) admin = undefined;
      admin ??= api
        .login(DEMO_USERS.admin.email, shop.secrets.demo.admin)
        .then(({ token }) => api.as(token))
        .catch((error: unknown) => {
          admin = undefined;
          throw error;
        });
      return admin;
    },
    stop() {
      stopping ??= (async () => {
        await shop.stop();
        await x.isolation.close();
        if (x.servers) await Promise.allSettled(Object.values(x.servers).map((s) => s.destroy()));
        if (!x.o.dataDir) rmSync(x.dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
