/**
 * A fault-injecting TCP proxy, in the spirit of Toxiproxy: it forwards bytes between a client
 * and a target and, on command, delays them (latency with jitter), holds them (a black hole:
 * the connection stays open and silent, like a hung network path), resets connections (TCP RST
 * to both sides, at random per chunk or all at once) or resets new connections at accept.
 * This kernel has no netem, so latency and error faults go through here; the harness also uses
 * it as the forwarder that carries a namespaced service's traffic over its veth links.
 */
import { createServer, type Server, Socket } from 'node:net';
import { type Clock, systemClock } from '@trellis/core';
import { Lane } from './proxy-lane.js';

/** What the proxy does to traffic; everything off by default. */
export interface ProxyFaults {
  /** Delay added to every chunk, both directions (ms). Order is kept. */
  latencyMs?: number;
  /** Extra delay drawn uniformly from 0…jitterMs per chunk (ms). */
  jitterMs?: number;
  /** Probability (0–1) that a chunk resets its connection instead of passing. */
  resetRate?: number;
  /** Hold all data (connections stay open, nothing arrives) until lifted; then it flows again. */
  blackhole?: boolean;
  /** Reset every new connection right after accepting it. */
  refuse?: boolean;
}

/** Counters since the proxy started. */
export interface ProxyStats {
  connections: number;
  open: number;
  /** Connections reset by a fault (random resets, `resetConnections`). */
  resets: number;
  /** Connections reset at accept (`refuse`). */
  refused: number;
  /** Bytes forwarded, both directions. */
  bytes: number;
  /**
   * Bytes that came from clients (forwarded to the target). A cut path is proven by this one:
   * the target side may still send (a NOTIFY, a PING) into a socket whose peer is unreachable.
   */
  fromClients: number;
  /** Bytes that came from the target (forwarded to clients). */
  fromTarget: number;
}

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Where to listen; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** Where to forward. */
  target: { host: string; port: number };
  /** For messages and reports. */
  name?: string;
  /** Schedules delayed chunks (tests pass a ManualClock). Default the system clock. */
  clock?: Clock;
  /** Source of randomness for jitter and resets. Default `Math.random`. */
  random?: () => number;
}

interface Connection {
  client: Socket;
  upstream: Socket;
  lanes: [Lane, Lane];
}

/**
 * A running proxy.
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start({ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: 5432 } });
 * proxy.setFaults({ latencyMs: 200, jitterMs: 50 }); // every chunk 200–250 ms late
 * proxy.setFaults({ resetRate: 0.05 }); // 5 % of chunks reset their connection
 * proxy.clearFaults();
 * await proxy.close();
 * ```
 */
export class FaultProxy {
  readonly name: string;
  readonly stats: ProxyStats = {
    connections: 0,
    open: 0,
    resets: 0,
    refused: 0,
    bytes: 0,
    fromClients: 0,
    fromTarget: 0,
  };
  private current: Readonly<ProxyFaults> = {};
  private readonly connections = new Set<Connection>();
  private readonly clock: Clock;
  private readonly random: () => number;

  private constructor(
    private readonly server: Server,
    private readonly options: FaultProxyOptions,
    readonly address: { host: string; port: number },
  ) {
    this.name = options.name ?? `${options.target.host}:${options.target.port}`;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    server.on('connection', (client) => this.accept(client));
  }

  /** Starts listening. Throws the listen error (e.g. `EADDRINUSE`, `EADDRNOTAVAIL`). */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer({ noDelay: true, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : options.listen.port;
    return new FaultProxy(server, options, { host: options.listen.host, port });
  }

  /** The faults in force. */
  get faults(): Readonly<ProxyFaults> {
    return this.current;
  }

  /** Replaces the faults (for new and open connections); lifting a black hole releases held data. */
  setFaults(faults: ProxyFaults): void {
    this.current = { ...faults };
    if (!faults.blackhole) for (const c of this.connections) for (const lane of c.lanes) lane.release();
  }

  /** Back to a plain forwarder. */
  clearFaults(): void {
    this.setFaults({});
  }

  /** Resets every open connection now (both sides see a TCP RST); returns how many. */
  resetConnections(): number {
    const open = [...this.connections];
    for (const c of open) this.reset(c);
    return open.length;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of [...this.connections]) {
      c.client.destroy();
      c.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    if (this.current.refuse) {
      this.stats.refused++;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const { host, port } = this.options.target;
    const upstream = new Socket({ allowHalfOpen: true });
    const connection = {} as Connection;
    const policy = {
      faults: () => this.current,
      delay: () => {
        const { latencyMs = 0, jitterMs = 0 } = this.current;
        return latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
      },
      shouldReset: () => (this.current.resetRate ?? 0) > 0 && this.random() < (this.current.resetRate ?? 0),
      reset: () => this.reset(connection),
    };
    const counting = (side: 'fromClients' | 'fromTarget') => ({
      ...policy,
      counted: (n: number) => {
        this.stats.bytes += n;
        this.stats[side] += n;
      },
    });
    Object.assign(connection, {
      client,
      upstream,
      lanes: [
        new Lane(client, upstream, this.clock, counting('fromClients')),
        new Lane(upstream, client, this.clock, counting('fromTarget')),
      ],
    });
    this.connections.add(connection);
    this.stats.open++;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      this.connections.delete(connection);
      this.stats.open--;
      for (const lane of connection.lanes) lane.dispose();
    };
    // One side failing is passed on as a reset, the way a broken path looks to the other end.
    client.on('error', () => upstream.resetAndDestroy());
    upstream.on('error', () => client.resetAndDestroy());
    client.on('close', () => {
      finish();
      upstream.destroy();
    });
    upstream.on('close', () => {
      finish();
      client.destroy();
    });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.connect(port, host);
  }

  private reset(c: Connection): void {
    if (!this.connections.has(c)) return;
    this.stats.resets++;
    c.client.resetAndDestroy();
    c.upstream.resetAndDestroy();
  }
}
