import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteBus } from '@trellis/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { captureIO } from '../command.js';
import { main } from '../main.js';
import { parseTime } from './dead-letters-args.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A bus file with three dead letters of group `billing` (two topics) and one of `audit`. */
async function busWithDeadLetters(): Promise<{
  file: string;
  bus: SqliteBus;
  healed: () => void;
  got: string[];
}> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-'));
  dirs.push(dir);
  const file = join(dir, 'bus.db');
  const bus = await SqliteBus.open(file);
  let healthy = false;
  const got: string[] = [];
  const failing = (group: string) => (m: { key: string | undefined }) => {
    if (!healthy) throw Object.assign(new Error(`${group} is down`), { code: 'UPSTREAM_DOWN' });
    got.push(`${group}:${m.key}`);
  };
  await bus.subscribe('order.*', failing('billing'), { group: 'billing', retry: { maxAttempts: 1 } });
  await bus.subscribe('order.placed', failing('audit'), { group: 'audit', retry: { maxAttempts: 1 } });
  await bus.publish('order.placed', { n: 1 }, { key: 'o1' });
  await bus.publish('order.placed', { n: 2 }, { key: 'o2' });
  await bus.publish('order.cancelled', { n: 3 }, { key: 'o3' });
  await expect.poll(() => bus.deadLetters.count(), { timeout: 5000 }).toBe(5);
  const healed = () => {
    healthy = true;
  };
  return { file, bus, healed, got };
}

describe('trellis dead-letters (SQLite bus file)', () => {
  it('lists, filters, counts and shows', async () => {
    const { file, bus } = await busWithDeadLetters();
    const io = captureIO();
    expect(await main(['dead-letters', 'list', '--db', file, '--group', 'billing'], io)).toBe(0);
    const lines = io.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+DEAD-LETTERED\s+GROUP\s+TOPIC\s+KEY\s+TRIES\s+REASON\s+ERROR$/);
    expect(lines).toHaveLength(4);
    expect(io.out).toContain('UPSTREAM_DOWN: billing is down');

    const json = captureIO();
    await main(['dead-letters', 'list', '--db', file, '--topic', 'order.cancelled', '--json'], json);
    const [only] = JSON.parse(json.out) as Array<{ id: string; key: string; attempts: number }>;
    expect(only).toMatchObject({ key: 'o3', attempts: 1 });

    const count = captureIO();
    await main(
      ['dead-letters', 'count', '--db', file, '--error-code', 'UPSTREAM_DOWN', '--since', '1h'],
      count,
    );
    expect(count.out).toBe('5\n');

    const show = captureIO();
    expect(await main(['dead-letters', 'show', only?.id ?? '', '--db', file], show)).toBe(0);
    expect(show.out).toContain('topic:           order.cancelled');
    expect(show.out).toContain('"n": 3');
    expect(show.out).toMatch(/stack:\n\s+Error: billing is down/);
    await bus.close();
  });

  it('replays to the failed group only, and purges; both refuse to run without a filter', async () => {
    const { file, bus, healed, got } = await busWithDeadLetters();
    healed();
    const refused = captureIO();
    expect(await main(['dead-letters', 'replay', '--db', file], refused)).toBe(2);
    expect(refused.err).toContain('needs a filter or --all');

    const dry = captureIO();
    await main(['dead-letters', 'replay', '--db', file, '--group', 'audit', '--dry-run'], dry);
    expect(dry.out).toBe('would have replayed 2\n');
    expect(await bus.deadLetters.count()).toBe(5);

    const replay = captureIO();
    expect(
      await main(['dead-letters', 'replay', '--db', file, '--group', 'billing', '--key', 'o1'], replay),
    ).toBe(0);
    expect(replay.out).toBe('replayed 1\n');
    // The CLI wrote to the file from outside; the running bus notices and delivers.
    await expect.poll(() => got, { timeout: 5000 }).toEqual(['billing:o1']);

    const purge = captureIO();
    expect(await main(['dead-letters', 'purge', '--db', file, '--all', '--json'], purge)).toBe(0);
    expect(JSON.parse(purge.out)).toEqual({ purged: 4, dryRun: false });
    expect(got).toEqual(['billing:o1']);
    await bus.close();
  });

  it('names the bad flag, the missing file, and the unknown command', async () => {
    const bad = captureIO();
    expect(await main(['dead-letters', 'list', '--db', 'x.db', '--reason', 'nope'], bad)).toBe(2);
    expect(bad.err).toMatch(/Invalid arguments at "reason"/);
    const since = captureIO();
    expect(await main(['dead-letters', 'list', '--db', 'x.db', '--since', 'yesterday-ish'], since)).toBe(2);
    expect(since.err).toMatch(/"since"/);
    const missing = captureIO();
    expect(await main(['dead-letters', 'list', '--db', '/nonexistent/bus.db'], missing)).toBe(1);
    expect(missing.err).toContain('No such SQLite file: /nonexistent/bus.db');
    const unknown = captureIO();
    expect(await main(['nope'], unknown)).toBe(2);
    expect(unknown.err).toContain('unknown command "nope"');
    expect(unknown.err).toContain('dead-letters');
    const help = captureIO();
    expect(await main(['dead-letters', '--help'], help)).toBe(0);
    expect(help.out).toContain('usage: trellis dead-letters <action>');
  });

  it('parses relative and absolute times', () => {
    expect(parseTime('30m', 10_000_000)).toBe(10_000_000 - 1_800_000);
    expect(parseTime('1700000000000', 0)).toBe(1_700_000_000_000);
    expect(parseTime('2024-01-01T00:00:00Z', 0)).toBe(Date.UTC(2024, 0, 1));
    expect(parseTime('soon', 0)).toBeUndefined();
  });

  it('runs as the real trellis binary', async () => {
    const { file, bus } = await busWithDeadLetters();
    await bus.close();
    const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [bin, 'dead-letters', 'count', '--db', file, '--group', 'audit'],
      {
        cwd: tmpdir(),
        encoding: 'utf8',
      },
    );
    expect(out).toBe('2\n');
  });
});
