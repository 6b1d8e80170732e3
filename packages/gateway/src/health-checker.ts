/**
 * Active health checks: every `intervalMs`, each instance's health path is requested (over
 * its own pool, with a timeout). `unhealthyThreshold` failures in a row take it out of
 * rotation, `healthyThreshold` successes bring it back; with `unejectOnHealthy` a passing
 * check also ends a passive ejection early.
 */
import type { Clock, TimerHandle } from '@trellis/core';
import type { UpstreamGroup, UpstreamInstance } from './upstream.js';

/** Runs the active checks of one upstream. */
export class HealthChecker {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly group: UpstreamGroup,
    private readonly clock: Clock,
    private readonly onChange?: (instance: UpstreamInstance, healthy: boolean) => void,
  ) {}

  /** Starts the periodic checks (the first after one interval). */
  start(): void {
    const hc = this.group.config.healthCheck;
    if (!hc || this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.checkNow().finally(() => this.start());
    }, hc.intervalMs);
  }

  /** Checks every instance once, now. */
  checkNow(): Promise<void> {
    this.running ??= Promise.all(this.group.instances.map((i) => this.check(i))).then(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(instance: UpstreamInstance): Promise<void> {
    const hc = this.group.config.healthCheck;
    if (!hc) return;
    let ok = false;
    const controller = new AbortController();
    const handle = this.clock.setTimeout(
      () => controller.abort(new Error('health check timed out')),
      hc.timeoutMs,
    );
    try {
      const res = await instance.pool.request({
        method: 'GET',
        path: hc.path,
        headers: { host: instance.host, 'user-agent': 'trellis-gateway-health' },
        signal: controller.signal,
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      ok = false;
    } finally {
      this.clock.clearTimeout(handle);
    }
    if (this.stopped) return;
    if (ok) {
      instance.hcFailures = 0;
      instance.hcSuccesses++;
      if (!instance.healthy && instance.hcSuccesses >= hc.healthyThreshold) {
        instance.healthy = true;
        this.onChange?.(instance, true);
      }
      if (hc.unejectOnHealthy && instance.ejectedUntil > this.clock.now()) instance.ejectedUntil = 0;
    } else {
      instance.hcSuccesses = 0;
      instance.hcFailures++;
      if (instance.healthy && instance.hcFailures >= hc.unhealthyThreshold) {
        instance.healthy = false;
        this.onChange?.(instance, false);
      }
    }
  }

  /** Stops checking (and clears the timer). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
