/**
 * Puts chosen service instances where the harness can cut and slow their traffic. Each runs in
 * a network namespace of its own (when the machine allows) with three veth links — `service`
 * (its HTTP traffic both ways), `db` (PostgreSQL) and `bus` (NATS) — and everything it sends
 * leaves through a {@link FaultProxy} on the root side of the right link: a partition takes a
 * link down, latency and resets are set on a proxy. Without namespaces the instance stays on
 * loopback with the same proxies in front of its database, bus and upstreams, so proxy faults
 * still work and only partitions are unavailable.
 *
 * The shop is told through its two launch hooks: the topology moves the instance to its
 * namespace address (so the gateway and its peers reach it over the `service` link), and its
 * process is started with `ip netns exec` and environment pointing at the proxies.
 */
import type { Topology } from '@trellis/shop';
import { FaultProxy } from './fault-proxy.js';
import { NetworkNamespace } from './network-namespace.js';

/** The paths of an isolated instance. */
export type IsolatedPath = 'service' | 'db' | 'bus';

/** How the shop's supervisor describes a process it launches (the fields the hooks change). */
export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** One instance under the harness's control. */
export interface IsolatedInstance {
  /** `orders#1`, `notifications`… */
  readonly id: string;
  readonly service: string;
  readonly replica: number;
  /** Undefined when namespaces are not available (loopback proxies only). */
  readonly namespace: NetworkNamespace | undefined;
  /** The address it listens on. */
  readonly host: string;
  /** Proxy per path its outgoing traffic takes: `db`, `bus`, and `service:<upstream>` per upstream instance. */
  readonly proxies: Map<string, FaultProxy>;
  /** URL rewrites for its environment: what the shop planned → the proxy it must use. */
  readonly rewrites: Map<string, string>;
}

const idOf = (service: string, replica: number) => (replica === 0 ? service : `${service}#${replica}`);

function parseId(id: string): { service: string; replica: number } {
  const [service = id, replica = '0'] = id.split('#');
  return { service, replica: Number(replica) };
}

/** The isolated instances of one shop. */
export class Isolation {
  readonly instances = new Map<string, IsolatedInstance>();

  private constructor() {}

  /**
   * Prepares isolation for the instances named by id (`orders#1`); with `namespaces`, makes a
   * namespace with `service`, `db` and `bus` links for each.
   *
   * Throws `ChaosEnvironmentError` when a namespace cannot be built.
   */
  static async create(ids: readonly string[], namespaces: boolean): Promise<Isolation> {
    const isolation = new Isolation();
    try {
      for (const id of ids) {
        const { service, replica } = parseId(id);
        const label = id.replace('#', '-');
        const namespace = namespaces
          ? await NetworkNamespace.create(label, ['service', 'db', 'bus'])
          : undefined;
        isolation.instances.set(idOf(service, replica), {
          id: idOf(service, replica),
          service,
          replica,
          namespace,
          host: namespace ? namespace.link('service').namespaceAddress : '127.0.0.1',
          proxies: new Map(),
          rewrites: new Map(),
        });
      }
      return isolation;
    } catch (error) {
      await isolation.close();
      throw error;
    }
  }

  /** The instance `id`. Throws `Error` when it is not isolated. */
  instance(id: string): IsolatedInstance {
    const found = this.instances.get(id);
    if (!found)
      throw new Error(`${id} is not isolated by the harness (isolated: ${[...this.instances.keys()]})`);
    return found;
  }

  /** The proxy on `path` of instance `id` (`db`, `bus`, `service:payments`…). Throws when absent. */
  proxy(id: string, path: string): FaultProxy {
    const proxy = this.instance(id).proxies.get(path);
    if (!proxy) throw new Error(`${id} has no ${path} proxy`);
    return proxy;
  }

  /** The shop's topology hook: moves isolated instances and starts their proxies. */
  async adaptTopology(t: Topology): Promise<Topology> {
    for (const instance of this.instances.values()) {
      const planned = t.instances.find(
        (i) => i.service === instance.service && i.replica === instance.replica,
      );
      if (!planned) throw new Error(`the shop has no instance ${instance.id}`);
      planned.url = `http://${instance.host}:${planned.port}`;
    }
    for (const instance of this.instances.values()) await this.startProxies(instance, t);
    return t;
  }

  /** The shop's process hook: runs isolated instances in their namespace, through their proxies. */
  adaptProcess<S extends LaunchSpec>(spec: S, target: { service: string; replica: number }): S {
    const instance = this.instances.get(idOf(target.service, target.replica));
    if (!instance) return spec;
    const rewrite = (value: string | undefined) => {
      if (value === undefined) return undefined;
      let out = value;
      // host:port followed by no further digit (port 3001 must not match inside 30012).
      for (const [from, to] of instance.rewrites)
        out = out.replace(new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`, 'g'), to);
      return out;
    };
    const env: Record<string, string> = { ...spec.env, HOST: instance.host };
    for (const key of ['DATABASE_URL', 'NATS_URL', 'SHOP_UPSTREAMS']) {
      const value = rewrite(spec.env[key]);
      if (value !== undefined) env[key] = value;
    }
    const prefix = instance.namespace?.execPrefix();
    return prefix
      ? { ...spec, env, command: prefix[0] as string, args: [...prefix.slice(1), spec.command, ...spec.args] }
      : { ...spec, env };
  }

  /** Cuts (`false`) or heals (`true`) a path of an instance. Throws without a namespace. */
  async setPath(id: string, path: IsolatedPath, up: boolean): Promise<void> {
    const { namespace } = this.instance(id);
    if (!namespace) throw new Error(`${id} runs without a network namespace: it cannot be partitioned`);
    await namespace.setLink(path, up);
  }

  /** Stops the proxies and removes the namespaces. */
  async close(): Promise<void> {
    for (const instance of this.instances.values()) {
      await Promise.allSettled([...instance.proxies.values()].map((p) => p.close()));
      await instance.namespace?.destroy();
    }
  }

  private async startProxies(instance: IsolatedInstance, t: Topology): Promise<void> {
    const on = (path: IsolatedPath) => instance.namespace?.link(path).rootAddress ?? '127.0.0.1';
    const add = async (key: string, path: IsolatedPath, url: URL) => {
      const port = Number(url.port);
      const proxy = await FaultProxy.start({
        // In a namespace the proxy can keep the port (it listens on another address).
        listen: { host: on(path), port: instance.namespace ? port : 0 },
        target: { host: url.hostname, port },
        name: `${instance.id} → ${key}`,
      });
      instance.proxies.set(key, proxy);
      instance.rewrites.set(`${url.hostname}:${port}`, `${proxy.address.host}:${proxy.address.port}`);
    };
    const db = t.databases[instance.service];
    if (db?.kind === 'postgres') await add('db', 'db', new URL(db.url));
    if (t.bus.kind === 'nats') await add('bus', 'bus', new URL(t.bus.url));
    for (const other of t.instances) {
      if (other.service === instance.service && other.replica === instance.replica) continue;
      await add(`service:${idOf(other.service, other.replica)}`, 'service', new URL(other.url));
    }
  }
}
