/**
 * Linux network namespaces with veth links, made with `ip` (iproute2), for partition
 * experiments: a service process runs inside a namespace of its own (`ip netns exec`), and
 * each path it has to the outside — its HTTP traffic, its database, the bus — is a separate
 * veth pair with a /30 on it. Taking the root-side end of one link down cuts exactly that path
 * the way a failed switch port does: packets vanish, open connections stall and retransmit,
 * new ones fail with `EHOSTUNREACH`; bringing it up lets TCP carry on. Nothing in a namespace
 * can reach anything but the other end of its own links (no default route, no forwarding).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ChaosEnvironmentError } from './errors.js';

const run = promisify(execFile);

/** Runs `ip …`; throws with its stderr. */
async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { timeout: 10_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`, { cause: error });
  }
}

/** One veth pair between the root namespace and a service's namespace. */
export interface VethLink {
  /** What the link carries (`service`, `db`, `bus`). */
  name: string;
  rootInterface: string;
  namespaceInterface: string;
  /** The root side's address (where forwarders for this path listen). */
  rootAddress: string;
  /** The namespace side's address. */
  namespaceAddress: string;
}

/** Names all namespaces of the harness start with; the pid after it marks the owner. */
export const NAMESPACE_PREFIX = 'trellis-chaos-';

/** Second octets in 10.0.0.0/8 already routed or addressed on this machine. */
async function usedSecondOctets(): Promise<Set<number>> {
  const out = `${await ip('-4', '-o', 'addr', 'show')}\n${await ip('-4', 'route', 'show', 'table', 'all')}`;
  const used = new Set<number>();
  for (const m of out.matchAll(/\b10\.(\d{1,3})\.\d{1,3}\.\d{1,3}/g)) used.add(Number(m[1]));
  return used;
}

/**
 * The 10.x.0.0/16 this process takes its links from: one that no interface or route on the
 * machine uses, starting from a pid-derived one so two harness runs pick different blocks.
 */
async function pickBlock(): Promise<number> {
  const used = await usedSecondOctets();
  for (let i = 0; i < 56; i++) {
    const second = 200 + ((process.pid + i) % 56);
    if (!used.has(second)) return second;
  }
  throw new ChaosEnvironmentError('no free 10.x.0.0/16 (x in 200-255) for the chaos harness links');
}

let block: Promise<number> | undefined;
let allocated = 0;

/** The next /30 of this process's block: its index and the two host addresses. */
async function allocateSubnet(): Promise<{ index: number; root: string; inside: string }> {
  block ??= pickBlock();
  const second = await block;
  const index = allocated++;
  const third = Math.floor(index / 64);
  const fourth = (index % 64) * 4;
  return {
    index,
    root: `10.${second}.${third}.${fourth + 1}`,
    inside: `10.${second}.${third}.${fourth + 2}`,
  };
}

/** A network namespace owned by this process, with its veth links. */
export class NetworkNamespace {
  readonly links = new Map<string, VethLink>();
  private destroyed = false;

  private constructor(readonly name: string) {}

  /**
   * Whether namespaces can be made here (root, `ip` present, the kernel allows it): creates and
   * removes a probe namespace. Resolves to the reason when they cannot.
   */
  static async probe(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const name = `${NAMESPACE_PREFIX}${process.pid}-probe`;
    try {
      await ip('netns', 'add', name);
      await ip('netns', 'delete', name);
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  /** Deletes namespaces left behind by harness runs whose process is gone (a crash, a SIGKILL). */
  static async removeStale(): Promise<string[]> {
    const removed: string[] = [];
    const list = await ip('netns', 'list').catch(() => '');
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const owner = Number(/^trellis-chaos-(\d+)-/.exec(name)?.[1]);
      if (!owner || alive(owner)) continue;
      await ip('netns', 'delete', name).catch(() => undefined);
      removed.push(name);
    }
    return removed;
  }

  /**
   * Creates namespace `<prefix><pid>-<label>` with its loopback up and one veth link per name
   * in `links`.
   *
   * Throws `ChaosEnvironmentError` when a command fails (everything made so far is removed).
   */
  static async create(label: string, links: readonly string[]): Promise<NetworkNamespace> {
    const ns = new NetworkNamespace(`${NAMESPACE_PREFIX}${process.pid}-${label}`);
    try {
      await ip('netns', 'add', ns.name);
      await ip('netns', 'exec', ns.name, 'ip', 'link', 'set', 'lo', 'up');
      for (const link of links) await ns.addLink(link);
      return ns;
    } catch (error) {
      await ns.destroy();
      throw new ChaosEnvironmentError(
        `cannot build network namespace ${ns.name}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** The command prefix that runs a program inside this namespace. */
  execPrefix(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  /** The link named `name`. Throws `Error` for an unknown one. */
  link(name: string): VethLink {
    const link = this.links.get(name);
    if (!link) throw new Error(`namespace ${this.name} has no ${name} link`);
    return link;
  }

  /** Takes the root side of a link down (partition) or up (heal). */
  async setLink(name: string, up: boolean): Promise<void> {
    await ip('link', 'set', 'dev', this.link(name).rootInterface, up ? 'up' : 'down');
  }

  /** Removes the namespace and its links (deleting one end of a veth pair removes both). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const link of this.links.values())
      await ip('link', 'delete', link.rootInterface).catch(() => undefined);
    await ip('netns', 'delete', this.name).catch(() => undefined);
  }

  private async addLink(name: string): Promise<void> {
    const subnet = await allocateSubnet();
    // Interface names are at most 15 characters.
    const tag = `tc${process.pid % 100_000}x${subnet.index}`;
    const link: VethLink = {
      name,
      rootInterface: `${tag}h`,
      namespaceInterface: `${tag}n`,
      rootAddress: subnet.root,
      namespaceAddress: subnet.inside,
    };
    await ip('link', 'add', link.rootInterface, 'type', 'veth', 'peer', 'name', link.namespaceInterface);
    this.links.set(name, link);
    await ip('link', 'set', link.namespaceInterface, 'netns', this.name);
    await ip('addr', 'add', `${link.rootAddress}/30`, 'dev', link.rootInterface);
    await ip('link', 'set', link.rootInterface, 'up');
    const inside = (...args: string[]) => ip('netns', 'exec', this.name, 'ip', ...args);
    await inside('addr', 'add', `${link.namespaceAddress}/30`, 'dev', link.namespaceInterface);
    await inside('link', 'set', link.namespaceInterface, 'up');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
