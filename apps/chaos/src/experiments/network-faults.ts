/**
 * Network faults on the paths of an isolated instance (see `Isolation`): a partition takes
 * the root side of one of its veth links down — its database, the bus, or its peers (HTTP both
 * ways) — and the fault-injecting proxy on a path adds latency or resets connections. The
 * proof that a fault bit is read off the proxies: nothing crossed a cut path, resets happened.
 */
import { ChaosFaultError } from '../errors.js';
import type { Check, Experiment, ExperimentContext } from '../experiment.js';
import type { FaultProxy, ProxyFaults } from '../fault-proxy.js';
import type { IsolatedPath } from '../isolation.js';

const slug = (id: string) => id.replace('#', '-');

/** The proxies of `id` whose path key starts with `prefix` (`db`, `bus`, `service:`). */
function proxiesOn(ctx: ExperimentContext, id: string, prefix: string, name: string): FaultProxy[] {
  const instance = ctx.shop.isolation.instances.get(id);
  if (!instance) throw new ChaosFaultError(name, `${id} is not isolated`);
  const found = [...instance.proxies].filter(([key]) => key.startsWith(prefix)).map(([, p]) => p);
  if (found.length === 0) throw new ChaosFaultError(name, `${id} has no ${prefix} proxy`);
  return found;
}

const bytes = (ps: readonly FaultProxy[]) => ps.reduce((n, p) => n + p.stats.bytes, 0);
/** Bytes the isolated instance sent through its proxies (the clients are on its side). */
const sent = (ps: readonly FaultProxy[]) => ps.reduce((n, p) => n + p.stats.fromClients, 0);
const resets = (ps: readonly FaultProxy[]) => ps.reduce((n, p) => n + p.stats.resets, 0);

const pathNames: Record<IsolatedPath, string> = {
  db: 'its PostgreSQL database',
  bus: 'the bus (NATS)',
  service: 'its peers (gateway in, services out)',
};

/** The link of `path` of instance `id` down for the hold, then up. */
export function partitionExperiment(
  id: string,
  path: IsolatedPath,
  hypothesis: string,
  options: { servesThroughout?: boolean } = {},
): Experiment {
  const name = `partition-${slug(id)}-${path === 'service' ? 'peers' : path}`;
  const prefix = path === 'service' ? 'service:' : path;
  return {
    name,
    category: 'network',
    fault: `network partition: ${id} cut off from ${pathNames[path]} (veth link down)`,
    hypothesis,
    requires: { distributed: true, namespaces: true, isolated: id },
    holdMs: 10_000,
    recoverFrom: 'removal',
    // One instance of a replicated or asynchronous path is cut: the rest must keep serving.
    servesThroughout: options.servesThroughout ?? true,
    async inject(ctx) {
      const proxies = proxiesOn(ctx, id, prefix, name);
      await ctx.shop.isolation.setPath(id, path, false);
      // What was in flight when the link went down may still arrive: count from a moment later.
      await new Promise((r) => setTimeout(r, 500));
      // Only what the instance sends proves the cut: the far side (PostgreSQL's NOTIFY, a NATS
      // PING) still writes into sockets whose peer it can no longer reach.
      const before = sent(proxies);
      ctx.log(`link ${path} of ${id} down`);
      return {
        detail: `${id} ${path} link down`,
        observe: async (): Promise<Check[]> => {
          const crossed = sent(proxies) - before;
          return [
            {
              name: 'path cut',
              ok: crossed === 0,
              detail: `${crossed} bytes from ${id} crossed the cut path`,
            },
          ];
        },
        remove: async () => {
          await ctx.shop.isolation.setPath(id, path, true);
          ctx.log(`link ${path} of ${id} up`);
        },
      };
    },
  };
}

/** Faults on the proxies of one path of an isolated instance, for the hold. */
export function proxyExperiment(o: {
  name: string;
  id: string;
  /** Proxy keys starting with this: `db`, `bus`, `service:` (all peers), `service:payments`. */
  prefix: string;
  faults: ProxyFaults;
  fault: string;
  hypothesis: string;
}): Experiment {
  return {
    name: o.name,
    category: 'network',
    fault: o.fault,
    hypothesis: o.hypothesis,
    requires: { distributed: true, isolated: o.id },
    holdMs: 10_000,
    recoverFrom: 'removal',
    async inject(ctx) {
      const proxies = proxiesOn(ctx, o.id, o.prefix, o.name);
      const before = { bytes: bytes(proxies), resets: resets(proxies) };
      for (const p of proxies) p.setFaults(o.faults);
      ctx.log(`${o.id} ${o.prefix}: ${JSON.stringify(o.faults)}`);
      return {
        detail: `${proxies.length} prox${proxies.length === 1 ? 'y' : 'ies'} of ${o.id}`,
        observe: async (): Promise<Check[]> => {
          const moved = bytes(proxies) - before.bytes;
          const reset = resets(proxies) - before.resets;
          return o.faults.resetRate
            ? [
                {
                  name: 'connections reset',
                  ok: reset > 0,
                  detail: `${reset} connections reset, ${moved} bytes passed`,
                },
              ]
            : [{ name: 'traffic delayed, not stopped', ok: moved > 0, detail: `${moved} bytes passed late` }];
        },
        remove: async () => {
          for (const p of proxies) p.clearFaults();
          ctx.log(`${o.id} ${o.prefix}: faults cleared`);
        },
      };
    },
  };
}
