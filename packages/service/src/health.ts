/**
 * Liveness and readiness. Live means the process answers; ready means every registered
 * dependency check (database, bus…) passes and the service is not draining for shutdown.
 * Each check has its own timeout, so one hung dependency cannot hang the probe.
 */
import { type Clock, systemClock } from '@trellis/core';

/** A readiness check: resolves (or returns true) when the dependency is usable. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown> | unknown;

/** The answer of `/health/ready`. */
export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'draining';
  checks: Record<string, { ok: boolean; error?: string; durationMs: number }>;
}

interface Registered {
  check: ReadinessCheck;
  timeoutMs: number;
}

/** The registry of readiness checks of one service. */
export class Health {
  private readonly checks = new Map<string, Registered>();
  private draining = false;
  private readonly clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Registers a check under `name` (replacing one of the same name). A check fails when it
   * throws, returns `false`, or takes longer than `timeoutMs` (default 2000).
   *
   * @example
   * ```ts
   * health.add('database', () => db.query('SELECT 1'));
   * ```
   */
  add(name: string, check: ReadinessCheck, options: { timeoutMs?: number } = {}): () => void {
    this.checks.set(name, { check, timeoutMs: options.timeoutMs ?? 2000 });
    return () => this.checks.delete(name);
  }

  /** Marks the service as draining: readiness fails from now on, so balancers stop sending. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Runs every check concurrently. */
  async ready(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, c]) => [name, await this.run(c)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, r]) => r.ok);
    return { status: this.draining ? 'draining' : ok ? 'ready' : 'not_ready', checks };
  }

  private async run(c: Registered): Promise<{ ok: boolean; error?: string; durationMs: number }> {
    const start = this.clock.now();
    const controller = new AbortController();
    let handle: ReturnType<Clock['setTimeout']> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      handle = this.clock.setTimeout(() => {
        const e = new Error(`timed out after ${c.timeoutMs} ms`);
        controller.abort(e);
        reject(e);
      }, c.timeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => c.check(controller.signal)), timeout]);
      if (result === false)
        return { ok: false, error: 'check returned false', durationMs: this.clock.now() - start };
      return { ok: true, durationMs: this.clock.now() - start };
    } catch (error) {
      return {
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        durationMs: this.clock.now() - start,
      };
    } finally {
      if (handle !== undefined) this.clock.clearTimeout(handle);
    }
  }
}
