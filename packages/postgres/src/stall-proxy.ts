import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy for tests that can black-hole its link: while stalled, bytes and closes
 * in both directions are held back (as on a cut cable, where TCP retransmits until the link is
 * back), and new connections are accepted but get no answer. `resume()` delivers what was held.
 * Not exported from the package: it exists to prove the client-side timeouts.
 */
export class StallProxy {
  private stalled = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `targetPort`. */
  static async start(targetHost: string, targetPort: number): Promise<StallProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    const proxy = new StallProxy(server, address.port);
    server.on('connection', (socket) => proxy.pipe(socket, netConnect(targetPort, targetHost)));
    return proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Stops forwarding: the link goes silent. */
  stall(): void {
    this.stalled = true;
  }

  /** Forwards again, delivering what was held back in order. */
  resume(): void {
    this.stalled = false;
    const held = this.held;
    this.held = [];
    for (const deliver of held) deliver();
  }

  async close(): Promise<void> {
    this.resume();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(a: Socket, b: Socket): void {
    for (const s of [a, b]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => this.sockets.delete(s));
    }
    this.forward(a, b);
    this.forward(b, a);
  }

  private forward(from: Socket, to: Socket): void {
    const send = (deliver: () => void) => (this.stalled ? this.held.push(deliver) : deliver());
    from.on('data', (chunk) => send(() => to.write(chunk)));
    from.on('end', () => send(() => to.end()));
    from.on('close', () => send(() => to.destroy()));
  }
}
