/**
 * The topology of a running shop: which processes exist (services × replicas, the gateway),
 * on which ports, where each service's database and the bus are, and the gateway URL. The
 * supervisor plans it, starts from it, and writes it to `<DATA_DIR>/topology.json`, where the
 * load generator and the invariant checker find the system (they read the databases directly).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '@trellis/testing';
import { z } from 'zod';
import { sqliteFileOf } from '../platform/backend.js';
import { busFileOf } from '../platform/bus.js';
import {
  ASSISTANT,
  BACKEND_SERVICES,
  type BackendService,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_PORT_BASE,
  defaultPort,
  runnableSlots,
  SERVICE_SLOTS,
  type ServiceName,
} from '../registry.js';

const Location = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), file: z.string() }),
  z.object({ kind: z.literal('postgres'), url: z.string() }),
]);

/** The topology document. */
export const TopologySchema = z.object({
  mode: z.enum(['embedded', 'distributed']),
  dataDir: z.string(),
  gatewayUrl: z.string(),
  gatewayPort: z.number().int(),
  instances: z.array(
    z.object({ service: z.string(), replica: z.number().int(), port: z.number().int(), url: z.string() }),
  ),
  /** Slots reserved at the gateway whose service is not started here (the assistant, until it exists). */
  reserved: z.array(z.object({ service: z.string(), url: z.string() })).default([]),
  databases: z.record(z.string(), Location),
  bus: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('sqlite'), file: z.string() }),
    z.object({ kind: z.literal('nats'), url: z.string(), namespace: z.string().default('shop') }),
  ]),
  redisUrl: z.string().optional(),
  startedAt: z.string(),
});
/** A running shop's layout. */
export type Topology = z.output<typeof TopologySchema>;

/** The servers distributed mode runs on. */
export interface Infrastructure {
  /** One database URL per service. */
  databases: Record<BackendService, string>;
  /** The assistant's database (runs, pending approvals); required to run it distributed. */
  assistantDatabase?: string;
  natsUrl: string;
  redisUrl: string;
}

/** Options of {@link planTopology}. */
export interface PlanOptions {
  mode: 'embedded' | 'distributed';
  dataDir: string;
  /** 0 picks a free port. Default 8080. */
  gatewayPort?: number;
  /** Services listen on base + offset (+ 100 per replica); 0 picks free ports. Default 3000. */
  portBase?: number;
  replicas?: Partial<Record<ServiceName, number>>;
  /** Required in distributed mode. */
  infrastructure?: Infrastructure;
  /** NATS stream and subject prefix (distributed). Default `shop`. */
  busNamespace?: string;
}

/** Decides ports and locations. Throws `Error` for distributed mode without infrastructure. */
export async function planTopology(o: PlanOptions): Promise<Topology> {
  const dataDir = resolve(o.dataDir);
  const base = o.portBase ?? DEFAULT_PORT_BASE;
  const pick = async (fixed: number) => (base === 0 ? freePort() : fixed);
  const instances: Topology['instances'] = [];
  for (const slot of runnableSlots()) {
    const n = Math.max(1, o.replicas?.[slot.name] ?? 1);
    for (let replica = 0; replica < n; replica++) {
      const port = await pick(defaultPort(slot.name, base, replica));
      instances.push({ service: slot.name, replica, port, url: `http://127.0.0.1:${port}` });
    }
  }
  const reserved: Topology['reserved'] = [];
  for (const slot of SERVICE_SLOTS.filter((s) => !s.module)) {
    reserved.push({
      service: slot.name,
      url: `http://127.0.0.1:${await pick(defaultPort(slot.name, base))}`,
    });
  }
  const gatewayPort = o.gatewayPort === 0 ? await freePort() : (o.gatewayPort ?? DEFAULT_GATEWAY_PORT);
  const databases: Topology['databases'] = {};
  if (o.mode === 'distributed' && !o.infrastructure)
    throw new Error('Distributed mode needs PostgreSQL, NATS and Redis');
  for (const service of BACKEND_SERVICES) {
    databases[service] =
      o.mode === 'embedded' || !o.infrastructure
        ? { kind: 'sqlite', file: sqliteFileOf(dataDir, service) }
        : { kind: 'postgres', url: o.infrastructure.databases[service] };
  }
  if (o.mode === 'embedded' || !o.infrastructure) {
    databases[ASSISTANT] = { kind: 'sqlite', file: sqliteFileOf(dataDir, ASSISTANT) };
  } else if (o.infrastructure.assistantDatabase) {
    databases[ASSISTANT] = { kind: 'postgres', url: o.infrastructure.assistantDatabase };
  } else {
    throw new Error('Distributed mode needs a PostgreSQL database for the assistant');
  }
  return {
    mode: o.mode,
    dataDir,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    gatewayPort,
    instances,
    reserved,
    databases,
    bus:
      o.mode === 'embedded' || !o.infrastructure
        ? { kind: 'sqlite', file: busFileOf(dataDir) }
        : { kind: 'nats', url: o.infrastructure.natsUrl, namespace: o.busNamespace ?? 'shop' },
    ...(o.mode === 'distributed' && o.infrastructure ? { redisUrl: o.infrastructure.redisUrl } : {}),
    startedAt: new Date().toISOString(),
  };
}

/** Instance URLs per service, reserved slots included (what the gateway routes to). */
export function upstreamsOf(t: Topology): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of t.instances) {
    out[i.service] = [...(out[i.service] ?? []), i.url];
  }
  for (const r of t.reserved) out[r.service] ??= [r.url];
  return out;
}

/** Path of the topology file in `dataDir`. */
export function topologyFile(dataDir: string): string {
  return join(resolve(dataDir), 'topology.json');
}

/** Writes the topology file. */
export function writeTopology(t: Topology): void {
  writeFileSync(topologyFile(t.dataDir), `${JSON.stringify(t, null, 2)}\n`);
}

/**
 * Reads the topology of the shop that last ran with `dataDir`.
 *
 * Throws `Error` when there is none (the shop never started there).
 */
export function readTopology(dataDir: string): Topology {
  const file = topologyFile(dataDir);
  if (!existsSync(file))
    throw new Error(`No shop found in ${resolve(dataDir)} (no topology.json); start it with npm start`);
  return TopologySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
