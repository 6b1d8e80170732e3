import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ManualClock, sleep } from './index.js';

describe('ManualClock', () => {
  it('fires timers in due order and only when time reaches them', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(1020);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs timers scheduled by promise callbacks during the same advance', async () => {
    const clock = new ManualClock();
    const done: number[] = [];
    void (async () => {
      await sleep(10, { clock });
      done.push(clock.now());
      await sleep(10, { clock });
      done.push(clock.now());
    })();
    await clock.advance(25);
    expect(done).toEqual([10, 20]);
  });

  it('sleep rejects on abort and clears its timer', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = sleep(100, { clock, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('sleep on the real clock', () => {
  it('keeps a process that awaits it alive until it resolves (the clock itself never does)', () => {
    // A real child process: with only an unref'd timer pending, Node would exit mid-await.
    const run = (code: string) =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '--conditions=source', '--import', 'tsx', '-e', code],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
    const awaited = run("import { sleep } from '@trellis/core'; await sleep(30); console.log('after');");
    expect({ status: awaited.status, out: awaited.stdout }).toEqual({ status: 0, out: 'after\n' });
    // Background timers on systemClock still never hold the process: it exits at once.
    const background = run(
      "import { systemClock } from '@trellis/core'; systemClock.setTimeout(() => console.log('fired'), 60_000);",
    );
    expect({ status: background.status, out: background.stdout }).toEqual({ status: 0, out: '' });
  });
});
