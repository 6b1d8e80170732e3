/**
 * An honest simulator of a dependency having a bad day, for the resilience demo: a real HTTP
 * server on loopback whose behaviour follows a timeline — healthy, then failing fast with 503,
 * then hanging, then healthy again. Latency is real (timers), responses are real HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the service does during one phase of the timeline. */
export type Health = 'healthy' | 'failing' | 'hanging';

/** One phase: from `from` ms after start, the service behaves as `health`. */
export interface Phase {
  from: number;
  health: Health;
}

/** A running flaky service. */
export interface FlakyService {
  url: string;
  /** Health right now. */
  health(): Health;
  /** Requests the service actually received (rejected-fast calls never reach it). */
  received(): number;
  close(): Promise<void>;
}

/** Starts the simulator on a free loopback port. `latencyMs` is the healthy response time. */
export async function startFlakyService(timeline: Phase[], latencyMs = 15): Promise<FlakyService> {
  const started = Date.now();
  let received = 0;
  const health = (): Health => {
    const t = Date.now() - started;
    let current: Health = 'healthy';
    for (const phase of timeline) if (t >= phase.from) current = phase.health;
    return current;
  };
  const hanging = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    received++;
    const h = health();
    if (h === 'hanging') {
      // Never answers on its own; released when the client gives up or at shutdown.
      const release = () => res.destroy();
      hanging.add(release);
      req.on('close', () => hanging.delete(release));
      return;
    }
    const timer = setTimeout(() => {
      if (h === 'failing') {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'inventory database is down' } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sku: 'TRELLIS-1', inStock: 42 }));
      }
    }, latencyMs);
    req.on('close', () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    health,
    received: () => received,
    close: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
