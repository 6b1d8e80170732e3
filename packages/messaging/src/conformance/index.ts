import { afterEach, beforeEach, describe } from 'vitest';
import { deliveryTests } from './delivery-tests.js';
import { failureTests } from './failure-tests.js';
import type { BusConformanceContext, ConformanceOptions } from './harness.js';

export { type BusCrashContext, busCrashTest } from './bus-crash.js';

export type {
  BusConformanceContext,
  ConformanceBusOptions,
  ConformanceOptions,
  Ledger,
  LedgerHooks,
} from './harness.js';
export { sqlLedger } from './harness.js';
export { deferred, pause, waitFor } from './wait.js';

/**
 * Registers the Bus conformance suite for one transport: envelope, groups, per-key order,
 * wildcards, durable groups, history replay, header propagation, metrics, graceful close,
 * retries and dead letters, payload schemas, dead-letter replay and purge, redelivery after a
 * consumer crash, and inbox dedupe. Every transport must pass it unchanged.
 *
 * @example
 * ```ts
 * describeBusConformance('in-memory', async () => {
 *   const broker = new InMemoryBroker();
 *   return { createBus: async () => new InMemoryBus({ broker }), crash: async (b) => (b as InMemoryBus).crash(), … };
 * });
 * ```
 */
export function describeBusConformance(
  name: string,
  factory: () => Promise<BusConformanceContext>,
  options: ConformanceOptions = {},
): void {
  const resolved: Required<ConformanceOptions> = {
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 1000,
    waitMs: options.waitMs ?? 15_000,
    testTimeoutMs: options.testTimeoutMs ?? 60_000,
  };
  describe(`Bus conformance: ${name}`, { timeout: resolved.testTimeoutMs }, () => {
    let ctx: BusConformanceContext | undefined;
    beforeEach(async () => {
      ctx = await factory();
    });
    afterEach(async () => {
      await ctx?.cleanup();
      ctx = undefined;
    });
    const use = () => {
      if (!ctx) throw new Error('conformance context not created');
      return ctx;
    };
    deliveryTests(use, resolved);
    failureTests(use, resolved);
  });
}
