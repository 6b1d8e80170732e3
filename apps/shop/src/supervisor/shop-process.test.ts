import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@trellis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProcessEvent, ShopProcess } from './shop-process.js';

const announcer = new URL('./shop-process.ts', import.meta.url).href;

let dir: string;
let proc: ShopProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-proc-'));
});
afterEach(async () => {
  await proc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A real child: an HTTP server answering 200 on /ready, printing a line at start. */
async function server(): Promise<ShopProcess> {
  const port = await freePort();
  const script = join(dir, 'server.mjs');
  writeFileSync(
    script,
    `import http from 'node:http';
     http.createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('up ' + process.pid));`,
  );
  const events: ProcessEvent[] = [];
  const p = new ShopProcess(
    {
      id: 'test',
      command: process.execPath,
      args: [script],
      env: {},
      cwd: dir,
      logFile: join(dir, 'logs', 'test.log'),
      port,
      readyUrl: `http://127.0.0.1:${port}/ready`,
    },
    (e) => events.push(e),
  );
  Object.assign(p, { events });
  return p;
}

describe('ShopProcess', () => {
  it('starts a real process, restarts it after SIGKILL, and stops it for good', async () => {
    proc = await server();
    await proc.start();
    const firstPid = proc.pid;
    expect(proc.ready).toBe(true);
    proc.signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    await proc.whenReady();
    expect(proc.restarts).toBe(1);
    expect(proc.pid).not.toBe(firstPid);
    const events = (proc as unknown as { events: ProcessEvent[] }).events;
    expect(events.find((e) => e.kind === 'exited')).toMatchObject({ signal: 'SIGKILL', restartInMs: 250 });
    await proc.stop();
    expect(proc.running).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect(proc.running).toBe(false);
    expect(proc.restarts).toBe(1);
  });

  it('survives a start-up crash (a dependency not up yet) by restarting, within the start', async () => {
    const port = await freePort();
    const script = join(dir, 'flaky.mjs');
    const marker = join(dir, 'tried');
    writeFileSync(
      script,
      `import { existsSync, writeFileSync } from 'node:fs';
       import http from 'node:http';
       if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, '1'); process.exit(1); }
       http.createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1');`,
    );
    proc = new ShopProcess({
      id: 'flaky',
      command: process.execPath,
      args: [script],
      env: {},
      cwd: dir,
      logFile: join(dir, 'logs', 'flaky.log'),
      port,
      readyUrl: `http://127.0.0.1:${port}/ready`,
    });
    await proc.start();
    expect(proc.ready).toBe(true);
    expect(proc.restarts).toBe(1);
  });

  it('fails the start when the process dies before it is ready', async () => {
    const script = join(dir, 'crash.mjs');
    writeFileSync(script, 'process.exit(3);');
    proc = new ShopProcess({
      id: 'crash',
      command: process.execPath,
      args: [script],
      env: {},
      cwd: dir,
      logFile: join(dir, 'logs', 'crash.log'),
      port: 1,
      readyUrl: 'http://127.0.0.1:1/ready',
    });
    await expect(proc.start()).rejects.toThrow('exited during start-up');
  });
});

describe('ShopProcess readiness on a port someone else took', () => {
  let foreign: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (foreign ? foreign.close(r) : r(undefined)));
    foreign = undefined;
  });

  /** Another process's server on `port`, answering 200 to everything (another shop's service). */
  async function squat(port: number): Promise<void> {
    foreign = createServer((_q, s) => s.end('{"status":"ready"}'));
    await new Promise<void>((r) => foreign?.listen(port, '127.0.0.1', r));
  }

  /** A child that binds `port` (dying with EADDRINUSE when it is taken) and then announces it. */
  function announcing(port: number, id: string): ShopProcess {
    const script = join(dir, `${id}.mts`);
    writeFileSync(
      script,
      `import http from 'node:http';
       import { announceListening } from ${JSON.stringify(announcer)};
       const server = http.createServer((q, s) => s.end('ok'));
       server.listen(${port}, '127.0.0.1', () => announceListening(${port}));`,
    );
    return new ShopProcess({
      id,
      command: process.execPath,
      args: ['--import', import.meta.resolve('tsx'), script],
      env: {},
      cwd: dir,
      logFile: join(dir, 'logs', `${id}.log`),
      port,
      readyUrl: `http://127.0.0.1:${port}/health/ready`,
      announces: true,
      readyTimeoutMs: 20_000,
    });
  }

  it('fails the start when its child cannot bind the port, although the port answers ready', async () => {
    const port = await freePort();
    await squat(port);
    proc = announcing(port, 'fooled');
    await expect(proc.start()).rejects.toThrow('exited during start-up');
    expect(proc.ready).toBe(false);
  });

  it('is ready once its own child announced the port, and again after a restart', async () => {
    const port = await freePort();
    proc = announcing(port, 'honest');
    await proc.start();
    expect(proc.ready).toBe(true);
    proc.signal('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    await proc.whenReady();
    expect(proc.restarts).toBe(1);
  });
});
