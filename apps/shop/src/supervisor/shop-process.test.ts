import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@trellis/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProcessEvent, ShopProcess } from './shop-process.js';

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
