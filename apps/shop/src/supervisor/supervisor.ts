/**
 * The process supervisor behind `npm start`: one child process per service replica and one
 * for the gateway, each with its own environment (its database, the bus, its upstreams, the
 * secrets it needs and no others), started in parallel, watched, restarted with back-off when
 * they die, and stopped in order (gateway first, so no request reaches a stopping service).
 */

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect } from '@trellis/testing';
import type { ShopSecrets } from './secrets.js';
import { type ProcessEvent, type ProcessSpec, ShopProcess } from './shop-process.js';
import { type Topology, upstreamsOf } from './topology.js';

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  topology: Topology;
  secrets: ShopSecrets;
  /** Create demo data on first start. Default true. */
  seed?: boolean;
  /** Log level of every process. Default `info`. */
  logLevel?: string;
  /** Extra environment for every service process (e.g. `ORDER_WAIT_MS`). */
  serviceEnv?: Record<string, string>;
  /** Extra environment for the gateway (e.g. `RATE_LIMIT_CAPACITY`). */
  gatewayEnv?: Record<string, string>;
  /** Receives every log line of every process (prefixed by the caller). */
  echo?: (id: string, line: string) => void;
  /** Lifecycle events (ready, exited/restarting). */
  onEvent?: (event: ProcessEvent) => void;
  /**
   * Adjusts how one process is launched, given the spec the supervisor planned (`replica` is
   * -1 for the gateway). The chaos harness uses it to run an instance inside a network
   * namespace (`ip netns exec …`) or to point it at a fault-injecting proxy. The result is
   * used for every (re)start of that process.
   */
  adaptProcess?: (spec: ProcessSpec, target: { service: string; replica: number }) => ProcessSpec;
}

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Model provider keys: only the assistant talks to a model. */
const MODEL_KEY_VARIABLES = ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TRELLIS_AGENT_API_KEY'] as const;

/**
 * Secrets the supervisor's own environment may hold (an operator's `JWT_SECRET=… npm start`)
 * that a child must not simply inherit: each process is handed only the ones it needs, in its
 * own `env` (the JWT secret to users and the gateway, the demo passwords to users, the model
 * keys to the assistant).
 */
export function withheldSecrets(service: string): string[] {
  const secrets = ['JWT_SECRET', 'INTERNAL_TOKEN_SECRET', 'DEMO_ALICE_PASSWORD', 'DEMO_ADMIN_PASSWORD'];
  return service === 'assistant' ? secrets : [...secrets, ...MODEL_KEY_VARIABLES];
}

/**
 * The node arguments that run a TypeScript entry point with the workspace sources, plus any in
 * `SHOP_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile every process).
 */
export function nodeArgs(entry: string): string[] {
  const extra = process.env.SHOP_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return [...extra, '--conditions=source', '--import', import.meta.resolve('tsx'), entry];
}

/** Supervises the shop's processes. */
export class Supervisor {
  readonly services: ShopProcess[] = [];
  readonly gateway: ShopProcess;

  constructor(o: SupervisorOptions) {
    const t = o.topology;
    const upstreams = JSON.stringify(upstreamsOf(t));
    const logs = join(t.dataDir, 'logs');
    const common = { LOG_LEVEL: o.logLevel ?? 'info', INTERNAL_TOKEN_SECRET: o.secrets.internalTokenSecret };
    const adapt = (spec: ProcessSpec, service: string, replica: number) =>
      o.adaptProcess ? o.adaptProcess(spec, { service, replica }) : spec;
    for (const instance of t.instances) {
      const db = t.databases[instance.service];
      const env: Record<string, string> = {
        ...common,
        SHOP_SERVICE: instance.service,
        SHOP_REPLICA: String(instance.replica),
        PORT: String(instance.port),
        HOST: '127.0.0.1',
        SHOP_MODE: t.mode,
        DATA_DIR: t.dataDir,
        SHOP_UPSTREAMS: upstreams,
        SHOP_SEED: String(o.seed ?? true),
        ...(db?.kind === 'postgres' ? { DATABASE_URL: db.url } : {}),
        ...(t.bus.kind === 'nats' ? { NATS_URL: t.bus.url, SHOP_BUS_NAMESPACE: t.bus.namespace } : {}),
        ...o.serviceEnv,
      };
      // Only the users service signs user tokens and knows the demo passwords.
      if (instance.service === 'users') {
        Object.assign(env, {
          JWT_SECRET: o.secrets.jwtSecret,
          DEMO_ALICE_PASSWORD: o.secrets.demo.alice,
          DEMO_ADMIN_PASSWORD: o.secrets.demo.admin,
        });
      }
      const id = instance.replica === 0 ? instance.service : `${instance.service}#${instance.replica}`;
      this.services.push(
        new ShopProcess(
          adapt(
            {
              id,
              command: process.execPath,
              args: [...nodeArgs(here('../processes/service-process.ts')), instance.service],
              env,
              withhold: withheldSecrets(instance.service),
              cwd: process.cwd(),
              logFile: join(logs, `${id.replace('#', '-')}.log`),
              port: instance.port,
              readyUrl: `${instance.url}/health/ready`,
              announces: true,
            },
            instance.service,
            instance.replica,
          ),
          o.onEvent,
          o.echo,
        ),
      );
    }
    this.gateway = new ShopProcess(
      adapt(
        {
          id: 'gateway',
          command: process.execPath,
          args: nodeArgs(here('../processes/gateway-process.ts')),
          env: {
            ...common,
            PORT: String(t.gatewayPort),
            HOST: '127.0.0.1',
            SHOP_UPSTREAMS: upstreams,
            JWT_SECRET: o.secrets.jwtSecret,
            ...(t.redisUrl ? { REDIS_URL: t.redisUrl } : {}),
            ...o.gatewayEnv,
          },
          withhold: withheldSecrets('gateway'),
          cwd: process.cwd(),
          logFile: join(logs, 'gateway.log'),
          port: t.gatewayPort,
          readyUrl: `${t.gatewayUrl}/__gateway/health/live`,
          announces: true,
        },
        'gateway',
        -1,
      ),
      o.onEvent,
      o.echo,
    );
  }

  /** Every process, gateway last. */
  get all(): ShopProcess[] {
    return [...this.services, this.gateway];
  }

  /** The process of `service` replica `replica`. Throws for an unknown one. */
  process(service: string, replica = 0): ShopProcess {
    if (service === 'gateway') return this.gateway;
    const id = replica === 0 ? service : `${service}#${replica}`;
    const p = this.services.find((s) => s.spec.id === id);
    if (!p) throw new Error(`No process ${id}`);
    return p;
  }

  /**
   * Starts every service in parallel, then the gateway; resolves when all are ready. On a
   * failed start, stops what was started and rethrows.
   *
   * Throws `Error` naming the ports already in use, before starting anything.
   */
  async start(): Promise<void> {
    // A port already taken would let another shop's process answer our readiness probes.
    const taken = [];
    for (const p of this.all) if (await canConnect(p.spec.port)) taken.push(`${p.spec.id} :${p.spec.port}`);
    if (taken.length > 0) {
      throw new Error(
        `ports already in use (${taken.join(', ')}); is another shop running? Choose others with --port and --port-base`,
      );
    }
    try {
      await Promise.all(this.services.map((s) => s.start()));
      await this.gateway.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops the gateway, then every service (gracefully, in parallel). */
  async stop(): Promise<void> {
    await this.gateway.stop();
    await Promise.all(this.services.map((s) => s.stop()));
  }
}
