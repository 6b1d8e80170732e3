/**
 * Upstreams and their instances. Each instance has a keep-alive connection pool, a circuit
 * breaker, a count of outstanding requests (for least-outstanding and P2C balancing), an
 * active health state and a passive outlier state.
 *
 * Passive ejection (the Kong lesson): an instance failing `consecutiveFailures` times in a
 * row is ejected for `baseEjectionMs × 2^(ejections−1)` (capped), and comes back by itself when
 * that time passes; each clean stretch forgives one past ejection. At most
 * `maxEjectedPercent` of an upstream's instances are ejected at once (at least one may be).
 */
import type { Clock } from '@trellis/core';
import { CircuitBreaker, RetryBudget } from '@trellis/resilience';
import { Pool } from 'undici';
import type { UpstreamConfig } from './config.js';

/** One instance of an upstream. */
export class UpstreamInstance {
  readonly pool: Pool;
  readonly breaker: CircuitBreaker;
  /** Requests sent and not yet answered. */
  outstanding = 0;
  /** Active health state (true until a health check says otherwise). */
  healthy = true;
  /** Clock time until which the instance is ejected (0 when not). */
  ejectedUntil = 0;
  /** Ejections in a row not yet forgiven (drives the back-off). */
  ejections = 0;
  consecutiveFailures = 0;
  hcSuccesses = 0;
  hcFailures = 0;
  /** Host header value for requests to this instance. */
  readonly host: string;

  constructor(
    readonly upstream: string,
    readonly url: string,
    readonly config: UpstreamConfig,
    readonly clock: Clock,
  ) {
    const u = new URL(url);
    this.host = u.host;
    this.pool = new Pool(u.origin, {
      connections: config.connections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      headersTimeout: config.timeoutMs,
      bodyTimeout: 0,
    });
    this.breaker = new CircuitBreaker({
      name: `${upstream}@${u.host}`,
      failureThreshold: config.breaker.failureThreshold,
      timeout: config.breaker.openMs,
      halfOpenMaxProbes: config.breaker.halfOpenMaxProbes,
      probeTimeout: config.timeoutMs,
      clock,
      isResultFailure: (status) => this.config.failureStatuses.includes(status as number),
    });
  }

  /** True when the instance may take a request now. */
  available(now: number): boolean {
    return this.healthy && now >= this.ejectedUntil && !(this.breaker.state === 'OPEN');
  }

  /** Records an answered request for outlier detection. */
  succeeded(now: number): void {
    this.consecutiveFailures = 0;
    // A clean answer after a served ejection forgives one ejection (back-off decays).
    if (this.ejections > 0 && this.ejectedUntil !== 0 && now >= this.ejectedUntil) {
      this.ejections--;
      this.ejectedUntil = 0;
    }
  }

  /** Records a failure; returns true when this failure ejected the instance. */
  failed(now: number, group: UpstreamGroup): boolean {
    this.consecutiveFailures++;
    const o = this.config.outlier;
    if (this.consecutiveFailures < o.consecutiveFailures || now < this.ejectedUntil) return false;
    if (!group.mayEject(now)) return false;
    this.ejections++;
    this.consecutiveFailures = 0;
    this.ejectedUntil = now + Math.min(o.maxEjectionMs, o.baseEjectionMs * 2 ** (this.ejections - 1));
    return true;
  }

  /** Milliseconds until this instance may be available again. */
  retryAfterMs(now: number): number {
    let t = 0;
    if (now < this.ejectedUntil) t = this.ejectedUntil - now;
    if (this.breaker.state === 'OPEN') {
      const openUntil = this.breaker.snapshot().openUntil;
      if (openUntil !== null) t = Math.max(t, openUntil - now);
    }
    if (!this.healthy) t = Math.max(t, this.config.healthCheck?.intervalMs ?? 1000);
    return t;
  }

  /** A snapshot for the admin API and metrics. */
  status(now: number) {
    return {
      url: this.url,
      healthy: this.healthy,
      ejected: now < this.ejectedUntil,
      ejectedForMs: Math.max(0, this.ejectedUntil - now),
      ejections: this.ejections,
      breaker: this.breaker.state,
      outstanding: this.outstanding,
    };
  }

  async close(): Promise<void> {
    this.breaker.dispose();
    await this.pool.close();
  }
}

/** An upstream: its instances, balancer and retry budget. */
export class UpstreamGroup {
  readonly instances: UpstreamInstance[];
  readonly budget: RetryBudget;
  private rr = 0;
  private readonly random: () => number;

  constructor(
    readonly name: string,
    readonly config: UpstreamConfig,
    readonly clock: Clock,
    instances: UpstreamInstance[],
    options: { random?: () => number } = {},
  ) {
    this.instances = instances;
    this.random = options.random ?? Math.random;
    this.budget = new RetryBudget({
      ratio: config.retry.budgetRatio,
      minRetriesPerSecond: config.retry.minRetriesPerSecond,
      clock,
    });
  }

  /** True while ejecting one more instance stays within `maxEjectedPercent`. */
  mayEject(now: number): boolean {
    let ejected = 0;
    for (const i of this.instances) if (now < i.ejectedUntil) ejected++;
    const allowed = Math.max(
      1,
      Math.floor((this.instances.length * this.config.outlier.maxEjectedPercent) / 100),
    );
    return ejected < allowed;
  }

  /**
   * Picks an available instance other than `exclude` with the configured balancer, or
   * undefined when none is available.
   */
  pick(now: number, exclude?: UpstreamInstance): UpstreamInstance | undefined {
    const list = this.instances;
    const n = list.length;
    if (n === 1) {
      const only = list[0] as UpstreamInstance;
      return only !== exclude && only.available(now) ? only : undefined;
    }
    switch (this.config.balancer) {
      case 'round-robin':
        for (let k = 0; k < n; k++) {
          const i = list[this.rr++ % n] as UpstreamInstance;
          if (i !== exclude && i.available(now)) return i;
        }
        return undefined;
      case 'least-outstanding': {
        let best: UpstreamInstance | undefined;
        const start = this.rr++ % n;
        for (let k = 0; k < n; k++) {
          const i = list[(start + k) % n] as UpstreamInstance;
          if (i !== exclude && i.available(now) && (!best || i.outstanding < best.outstanding)) best = i;
        }
        return best;
      }
      default: {
        // Power of two choices: two random distinct instances, the less loaded wins.
        const a = list[Math.floor(this.random() * n)] as UpstreamInstance;
        let b = list[Math.floor(this.random() * (n - 1))] as UpstreamInstance;
        if (b === a) b = list[n - 1] as UpstreamInstance;
        const aOk = a !== exclude && a.available(now);
        const bOk = b !== exclude && b.available(now);
        if (aOk && bOk) return b.outstanding < a.outstanding ? b : a;
        if (aOk) return a;
        if (bOk) return b;
        // Both picks unavailable: fall back to a scan so a healthy instance is never missed.
        let best: UpstreamInstance | undefined;
        for (const i of list) {
          if (i !== exclude && i.available(now) && (!best || i.outstanding < best.outstanding)) best = i;
        }
        return best;
      }
    }
  }

  /** Milliseconds until some instance may be available again (for `Retry-After`). */
  retryAfterMs(now: number): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const i of this.instances) {
      const m = i.retryAfterMs(now);
      if (m < soonest) soonest = m;
    }
    return Number.isFinite(soonest) ? soonest : 1000;
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.close()));
  }
}
