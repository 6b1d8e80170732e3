/**
 * The test side of the crash proof: start the child, SIGKILL it at a random moment, again and
 * again, then let one run to the end; afterwards read what every process did from the
 * database and report any broken promise. No vitest here, so child processes can share it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { SqlDatabase } from '@trellis/core';

/** How to start the child: `node --conditions=source --import tsx <entry>` in `cwd`. */
export interface ChildSpec {
  entry: string;
  /** The repository root (where `tsx` resolves). */
  cwd: string;
  env: Record<string, string>;
}

/** A started child process and its stdout so far. */
export interface RunningChild {
  readonly process: ChildProcess;
  /** Resolves when the child printed `line`; rejects if it exits first or after `timeoutMs`. */
  waitFor(line: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Waits for a normal exit; rejects on a non-zero code (with the child's stderr). */
  exited(timeoutMs?: number): Promise<void>;
}

/** Starts the child. */
export function startChild(spec: ChildSpec): RunningChild {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', spec.entry], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) => {
        const t = setTimeout(
          () => reject(new Error(`crash child: ${what} after ${ms} ms\n${err.slice(-2000)}`)),
          ms,
        );
        void p.finally(() => clearTimeout(t)).catch(() => undefined);
      }),
    ]);
  return {
    process: child,
    waitFor(line, timeoutMs = 60_000) {
      const seen = new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.split('\n').includes(line)) {
            child.stdout?.off('data', check);
            resolve();
          }
        };
        child.stdout?.on('data', check);
        check();
        void exit.then(() => {
          check();
          reject(new Error(`crash child exited before printing "${line}"\n${err.slice(-2000)}`));
        });
      });
      return deadline(seen, timeoutMs, `no "${line}"`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
    async exited(timeoutMs = 120_000) {
      const code = await deadline(exit, timeoutMs, 'still running');
      if (code !== 0) throw new Error(`crash child exited with ${code}\n${err.slice(-4000)}`);
    },
  };
}

/**
 * Kills `child` once `progress()` (e.g. the number of step calls so far) has grown by a random
 * amount in [min, max] — so the kill lands while sagas are mid-flight, not before they start or
 * after they finished. Returns the progress it was killed at (or undefined when the child was
 * already done).
 */
export async function killMidway(
  child: RunningChild,
  progress: () => Promise<number>,
  min: number,
  max: number,
): Promise<number | undefined> {
  const start = await progress();
  const target = start + randomBetween(min, max);
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return undefined;
    const now = await progress().catch(() => start);
    if (now >= target) {
      await child.kill();
      return now;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Random whole number in [min, max]. */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** What the database says happened. Every list must be empty for the promises to hold. */
export interface CrashReport {
  statuses: Record<string, number>;
  /** Sagas not in a terminal state. */
  notTerminal: string[];
  /** (saga, step, phase) called with more than one idempotency key. */
  severalKeys: string[];
  /** Compensated sagas where a step with an effect was not compensated exactly once, or vice versa. */
  compensationMismatch: string[];
  /** Completed sagas that were (partly) compensated, or miss a step's effect. */
  completedMismatch: string[];
  /** Calls made in total, and how many repeated an earlier call's key (retries after kills). */
  calls: number;
  repeatedCalls: number;
}

/** Reads `trellis_sagas`, `crash_calls` and `crash_effects` and checks the three promises. */
export async function inspectCrash(db: SqlDatabase, count: number): Promise<CrashReport> {
  const sagas = await db.query<{ id: string; status: string }>(
    "SELECT id, status FROM trellis_sagas WHERE name = 'crash-order'",
  );
  const calls = await db.query<{ saga_id: string; step: string; phase: string; idem_key: string }>(
    'SELECT saga_id, step, phase, idem_key FROM crash_calls',
  );
  const effects = await db.query<{ saga_id: string; step: string; phase: string }>(
    'SELECT saga_id, step, phase FROM crash_effects',
  );
  const statuses: Record<string, number> = {};
  for (const s of sagas) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const byId = new Map(sagas.map((s) => [s.id, s.status]));
  const notTerminal = Array.from({ length: count }, (_, i) => `crash-${i}`).filter(
    (id) => !['completed', 'compensated', 'failed'].includes(byId.get(id) ?? 'missing'),
  );
  const keys = new Map<string, Set<string>>();
  for (const c of calls) {
    const k = `${c.saga_id}/${c.step}/${c.phase}`;
    keys.set(k, (keys.get(k) ?? new Set()).add(c.idem_key));
  }
  const severalKeys = [...keys].filter(([, s]) => s.size > 1).map(([k]) => k);
  const effectSet = new Set(effects.map((e) => `${e.saga_id}/${e.step}/${e.phase}`));
  const compensationMismatch: string[] = [];
  const completedMismatch: string[] = [];
  for (const [id, status] of byId) {
    for (const step of ['reserve', 'charge', 'ship']) {
      const did = effectSet.has(`${id}/${step}/execute`);
      const undid = effectSet.has(`${id}/${step}/compensate`);
      if (status === 'compensated' && did !== undid) compensationMismatch.push(`${id}/${step}`);
      if (status === 'completed' && (!did || undid)) completedMismatch.push(`${id}/${step}`);
    }
  }
  const distinctKeys = new Set(calls.map((c) => `${c.idem_key}`)).size;
  return {
    statuses,
    notTerminal,
    severalKeys,
    compensationMismatch,
    completedMismatch,
    calls: calls.length,
    repeatedCalls: calls.length - distinctKeys,
  };
}
