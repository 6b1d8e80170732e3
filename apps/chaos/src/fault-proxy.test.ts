import { createServer, type Server, Socket } from 'node:net';
import { ManualClock } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault-proxy.js';

let echo: Server;
let echoPort: number;
let proxy: FaultProxy | undefined;
const sockets: Socket[] = [];

beforeEach(async () => {
  // The target: a real TCP echo server that also half-closes when its client does.
  echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  proxy = undefined;
  await new Promise((r) => echo.close(r));
});

async function startProxy(options: { clock?: ManualClock; random?: () => number } = {}) {
  proxy = await FaultProxy.start({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: echoPort },
    name: 'echo',
    ...options,
  });
  return proxy;
}

/** A client connected through the proxy, collecting what it receives and how it ended. */
async function client(p: FaultProxy) {
  const socket = new Socket();
  sockets.push(socket);
  const got: Buffer[] = [];
  const ended = new Promise<string>((resolve) => {
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    socket.on('end', () => resolve('end'));
  });
  socket.on('data', (d: Buffer) => got.push(d));
  // A connection reset at accept may fail before the connect callback runs.
  await Promise.race([new Promise<void>((r) => socket.connect(p.address.port, '127.0.0.1', r)), ended]);
  return { socket, text: () => Buffer.concat(got).toString(), ended };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('FaultProxy', () => {
  it('forwards bytes both ways unchanged and passes a half-close on', async () => {
    const p = await startProxy();
    const c = await client(p);
    const payload = 'x'.repeat(300_000);
    c.socket.end(payload);
    expect(await c.ended).toBe('end');
    expect(c.text()).toBe(payload);
    expect(p.stats).toMatchObject({
      connections: 1,
      resets: 0,
      bytes: 600_000,
      fromClients: 300_000,
      fromTarget: 300_000,
    });
  });

  it('delays every chunk by the latency plus jitter, keeping order', async () => {
    const clock = new ManualClock(0);
    const draws = [0.5, 0, 0.9, 0.1];
    const p = await startProxy({ clock, random: () => draws.shift() ?? 0 });
    p.setFaults({ latencyMs: 200, jitterMs: 100 });
    const c = await client(p);
    c.socket.write('hello');
    await until(() => clock.pendingTimers() === 1, 'the chunk to be queued');
    await clock.advance(249);
    expect(c.text()).toBe('');
    await clock.advance(1); // 200 + 0.5 × 100: the way there
    await until(() => clock.pendingTimers() === 1, 'the echo to be queued');
    await clock.advance(199);
    expect(c.text()).toBe('');
    await clock.advance(1); // 200 + 0 × 100: the way back
    await until(() => c.text() === 'hello', 'the echo');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('holds data in a black hole with the connection open, and lets it through when lifted', async () => {
    const p = await startProxy();
    p.setFaults({ blackhole: true });
    const c = await client(p);
    c.socket.write('are you there?');
    await until(() => p.stats.open === 1, 'the connection');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.text()).toBe('');
    expect(c.socket.destroyed).toBe(false);
    p.clearFaults();
    await until(() => c.text() === 'are you there?', 'the held data');
  });

  it('resets connections: per chunk at the reset rate, all open ones on command, new ones when refusing', async () => {
    const p = await startProxy({ random: () => 0 });
    p.setFaults({ resetRate: 0.5 });
    const a = await client(p);
    a.socket.write('boom');
    expect(await a.ended).toBe('ECONNRESET');
    p.clearFaults();
    const b = await client(p);
    b.socket.write('ping');
    await until(() => b.text() === 'ping', 'the echo');
    expect(p.resetConnections()).toBe(1);
    expect(await b.ended).toBe('ECONNRESET');
    p.setFaults({ refuse: true });
    const refused = await client(p);
    expect(await refused.ended).toBe('ECONNRESET');
    expect(p.stats).toMatchObject({ resets: 2, refused: 1 });
  });

  it('counts each direction apart: what the target pushes is not what the client sent', async () => {
    // A server that speaks first and unasked (as PostgreSQL's NOTIFY or a NATS PING do).
    await new Promise((r) => echo.close(r));
    echo = createServer((s) => {
      s.on('error', () => undefined);
      s.end('hello from the target');
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as { port: number }).port;
    const p = await startProxy();
    const c = await client(p);
    expect(await c.ended).toBe('end');
    expect(c.text()).toBe('hello from the target');
    expect(p.stats).toMatchObject({ fromClients: 0, fromTarget: 21, bytes: 21 });
  });

  it('resets the client when the target is down', async () => {
    const p = await startProxy();
    await new Promise((r) => echo.close(r));
    echo = createServer();
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const c = await client(p);
    expect(await c.ended).toBe('ECONNRESET');
  });
});
