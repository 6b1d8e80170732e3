import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@trellis/core';
import { afterAll, describe, expect, it } from 'vitest';
import { Lifecycle } from './lifecycle.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'trellis-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startChild(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; started: Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'fixtures/graceful-service.ts')],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let onStarted!: () => void;
  const started = new Promise<void>((r) => {
    onStarted = r;
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = /LISTENING (\S+)/.exec(buffer);
      if (m?.[1]) resolve({ child, url: m[1], started });
      if (buffer.includes('REQUEST_STARTED')) onStarted();
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

// Child processes start through tsx: allow for a slow, shared machine.
describe('graceful shutdown of a real process on SIGTERM', { timeout: 60_000 }, () => {
  it('finishes the in-flight request, stops the loop, flushes, closes, refuses new connections, exits 0', async () => {
    const events = join(dir, 'events-ok.log');
    const { child, url, started } = await startChild({ EVENTS_FILE: events, SLOW_MS: '400' });
    const inflight = fetch(`${url}/slow`);
    await started;
    const exited = exitCode(child);
    child.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(204);
    expect(res.headers.get('connection')).toBe('close');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
    expect(readFileSync(events, 'utf8').trim().split('\n')).toEqual([
      'request started',
      'request finished',
      'loop stopped',
      'outbox flushed',
      'database closed',
    ]);
  });

  it('exits 1 when the deadline passes, still closing resources', async () => {
    const events = join(dir, 'events-late.log');
    const { child, url, started } = await startChild({
      EVENTS_FILE: events,
      SLOW_MS: '5000',
      SHUTDOWN_TIMEOUT_MS: '200',
    });
    const inflight = fetch(`${url}/slow`).catch((e: unknown) => e);
    await started;
    const exited = exitCode(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(await inflight).toBeInstanceOf(Error);
    const lines = readFileSync(events, 'utf8').trim().split('\n');
    expect(lines).toContain('database closed');
    expect(lines).not.toContain('request finished');
  });
});

describe('Lifecycle', () => {
  function control(log: string[]) {
    return {
      stopAccepting: () => log.push('stop accepting'),
      forceClose: () => log.push('force close'),
      close: async () => {
        log.push('server closed');
      },
    };
  }

  it('waits for in-flight requests and tracked work before flushing and closing, in order', async () => {
    const clock = new ManualClock();
    const life = new Lifecycle({ clock, timeoutMs: 10_000 });
    const log: string[] = [];
    life.onFlush('outbox', () => log.push('flush'));
    life.onClose('db', () => log.push('close db'));
    life.onClose('bus', () => log.push('close bus'));
    life.requestStarted();
    let finishWork!: () => void;
    life.track(
      new Promise<void>((r) => {
        finishWork = r;
      }).then(() => log.push('tracked work done')),
    );
    const done = life.shutdown('test', control(log));
    await clock.advance(1000);
    expect(log).toEqual(['stop accepting']);
    life.requestFinished();
    await clock.advance(0);
    expect(log).toEqual(['stop accepting']);
    finishWork();
    const report = await done;
    expect(log).toEqual([
      'stop accepting',
      'tracked work done',
      'flush',
      'server closed',
      'close bus',
      'close db',
    ]);
    expect(report.timedOut).toBe(false);
    expect(report.steps.every((s) => s.ok)).toBe(true);
    expect(await life.shutdown('again', control(log))).toBe(report);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('past the deadline cuts connections, reports the step that did not finish, and still closes', async () => {
    const clock = new ManualClock();
    const life = new Lifecycle({ clock, timeoutMs: 5_000, closeGraceMs: 100 });
    const log: string[] = [];
    life.onClose('db', () => log.push('close db'));
    life.requestStarted();
    const done = life.shutdown('test', control(log));
    await clock.advance(5_000);
    const report = await done;
    expect(report.timedOut).toBe(true);
    expect(report.steps.find((s) => s.name === 'in-flight requests')).toMatchObject({ ok: false });
    expect(log).toEqual(['stop accepting', 'force close', 'server closed', 'close db']);
  });

  it('a failing flush hook is reported and does not stop the close hooks', async () => {
    const life = new Lifecycle({ clock: new ManualClock() });
    const log: string[] = [];
    life.onFlush('outbox', () => {
      throw new Error('bus down');
    });
    life.onClose('db', () => log.push('close db'));
    const report = await life.shutdown('test', control(log));
    expect(report.steps.find((s) => s.name === 'flush outbox')).toMatchObject({
      ok: false,
      error: 'bus down',
    });
    expect(log).toContain('close db');
  });
});
