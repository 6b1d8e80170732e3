/**
 * Starts a whole shop — infrastructure (distributed mode), topology, secrets, every process —
 * and returns a handle to inspect and stop it. `npm start`, `npm run start:distributed` and
 * the end-to-end tests all go through here.
 */
import { slotOf } from '../registry.js';
import { type ProvidedInfrastructure, provideInfrastructure } from './infrastructure.js';
import { loadOrCreateSecrets, type ShopSecrets } from './secrets.js';
import type { ProcessEvent, ProcessSpec } from './shop-process.js';
import { Supervisor } from './supervisor.js';
import { planTopology, type Topology, writeTopology } from './topology.js';

/** Options of {@link startShop}. */
export interface StartShopOptions {
  mode?: 'embedded' | 'distributed';
  dataDir: string;
  /** 0 for a free port. Default 8080. */
  gatewayPort?: number;
  /** 0 for free ports. Default 3000 (users on 3001…). */
  portBase?: number;
  replicas?: Record<string, number>;
  /** Environment with DATABASE_URL / NATS_URL / REDIS_URL for distributed mode. */
  env?: NodeJS.ProcessEnv;
  /** Distributed databases are `<prefix>_<service>`. Default `shop`. */
  databasePrefix?: string;
  seed?: boolean;
  logLevel?: string;
  serviceEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  echo?: (id: string, line: string) => void;
  onEvent?: (event: ProcessEvent) => void;
  /**
   * Adjusts the planned topology before it is written and started (e.g. the chaos harness
   * moves an instance to an address inside a network namespace it created).
   */
  adaptTopology?: (topology: Topology) => Topology | Promise<Topology>;
  /** Adjusts how one process is launched (see `SupervisorOptions.adaptProcess`). */
  adaptProcess?: (spec: ProcessSpec, target: { service: string; replica: number }) => ProcessSpec;
}

/** A running shop. */
export interface RunningShop {
  readonly topology: Topology;
  readonly secrets: ShopSecrets;
  readonly supervisor: Supervisor;
  readonly infrastructure: ProvidedInfrastructure | undefined;
  /** Wall time from call to every process ready (ms). */
  readonly startupMs: number;
  /** Stops every process, then the servers this shop started. */
  stop(): Promise<void>;
}

/**
 * Starts the shop and waits until every process is ready.
 *
 * Throws `Error` for an unknown service in `replicas`, for replicas in embedded mode, or when a
 * process fails to start (everything started is stopped again).
 */
export async function startShop(o: StartShopOptions): Promise<RunningShop> {
  const started = Date.now();
  for (const name of Object.keys(o.replicas ?? {})) {
    if (!slotOf(name).module) throw new Error(`Service "${name}" cannot be started (reserved slot)`);
  }
  const mode = o.mode ?? 'embedded';
  const replicated = Object.entries(o.replicas ?? {}).filter(([, n]) => n > 1);
  if (mode === 'embedded' && replicated.length > 0) {
    throw new Error(
      `Replicas (${replicated.map(([s, n]) => `${s}=${n}`).join(', ')}) need distributed mode: a SQLite file has one writer. Use npm run start:distributed -- --replicas …`,
    );
  }
  const infrastructure =
    mode === 'distributed'
      ? await provideInfrastructure({ env: o.env ?? process.env, databasePrefix: o.databasePrefix ?? 'shop' })
      : undefined;
  try {
    const planned = await planTopology({
      mode,
      dataDir: o.dataDir,
      ...(o.gatewayPort !== undefined ? { gatewayPort: o.gatewayPort } : {}),
      ...(o.portBase !== undefined ? { portBase: o.portBase } : {}),
      ...(o.replicas ? { replicas: o.replicas } : {}),
      ...(infrastructure ? { infrastructure: infrastructure.infrastructure } : {}),
      busNamespace: (o.databasePrefix ?? 'shop').replace(/[^a-z0-9_]/gi, '_').toLowerCase(),
    });
    const topology = o.adaptTopology ? await o.adaptTopology(planned) : planned;
    const secrets = loadOrCreateSecrets(topology.dataDir, o.env ?? process.env);
    writeTopology(topology);
    const supervisor = new Supervisor({
      topology,
      secrets,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
      ...(o.serviceEnv ? { serviceEnv: o.serviceEnv } : {}),
      ...(o.gatewayEnv ? { gatewayEnv: o.gatewayEnv } : {}),
      ...(o.echo ? { echo: o.echo } : {}),
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
      ...(o.adaptProcess ? { adaptProcess: o.adaptProcess } : {}),
    });
    await supervisor.start();
    let stopping: Promise<void> | undefined;
    return {
      topology,
      secrets,
      supervisor,
      infrastructure,
      startupMs: Date.now() - started,
      stop() {
        stopping ??= (async () => {
          await supervisor.stop();
          await infrastructure?.stop();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await infrastructure?.stop();
    throw error;
  }
}
