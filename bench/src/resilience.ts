import { createRequire } from 'node:module';
/**
 * Resilience overhead: bare `await fn()`, a naive seed-style breaker, the Trellis breaker
 * (seed options, and with every feature on), cockatiel 3.2 and opossum 9, on the success path
 * and on calls rejected while open; plus retry+breaker+timeout composed, Trellis `wrap` vs
 * cockatiel `wrap`. One process, one run, interleaved rounds (best of N per subject).
 *
 * `npm run bench -- resilience [--quick]`
 */

import { CircuitBreaker, isCircuitBreakerOpenError, retry, timeout, wrap } from '@trellis/resilience';
import {
  ConsecutiveBreaker,
  circuitBreaker as cbCircuitBreaker,
  retry as cbRetry,
  timeout as cbTimeout,
  wrap as cbWrap,
  ExponentialBackoff,
  handleAll,
  isBrokenCircuitError,
  TimeoutStrategy,
} from 'cockatiel';

/** The part of opossum 9's API used here (it ships no types; @types/opossum is not installed). */
interface Opossum {
  fire(): Promise<unknown>;
  open(): void;
  readonly opened: boolean;
}
const OpossumBreaker = createRequire(import.meta.url)('opossum') as new (
  action: () => Promise<unknown>,
  options: { timeout?: number | false; resetTimeout: number },
) => Opossum;

import { type BenchRow, report, withRatios } from './lib/report.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 1 : 8;
const durationMs = quick ? 100 : 250;

/** The seed's breaker, as written in the seed (Date objects and all): the naive baseline. */
class SeedBreaker {
  private state = 'CLOSED';
  private failureCount = 0;
  private successCount = 0;
  private lastFailureTime?: Date;
  constructor(
    private readonly options: { failureThreshold: number; successThreshold: number; timeout: number },
  ) {}
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    if (this.state === 'OPEN') {
      if (this.shouldAttemptReset()) this.state = 'HALF_OPEN';
      else throw new Error('Circuit breaker is open');
    }
    try {
      const result = await fn();
      this.onSuccess();
      return result;
    } catch (error) {
      this.onFailure();
      throw error;
    }
  }
  private onSuccess() {
    this.failureCount = 0;
    if (this.state === 'HALF_OPEN') {
      this.successCount++;
      if (this.successCount >= this.options.successThreshold) {
        this.state = 'CLOSED';
        this.successCount = 0;
      }
    }
  }
  private onFailure() {
    this.failureCount++;
    this.lastFailureTime = new Date();
    if (this.failureCount >= this.options.failureThreshold) this.state = 'OPEN';
  }
  private shouldAttemptReset(): boolean {
    if (!this.lastFailureTime) return false;
    return Date.now() - this.lastFailureTime.getTime() >= this.options.timeout;
  }
}

const ok = async () => 1;
const boom = async (): Promise<number> => {
  throw new Error('down');
};
const seedOptions = { failureThreshold: 5, successThreshold: 2, timeout: 60_000 };

const trellisSeed = new CircuitBreaker(seedOptions);
const trellisFull = new CircuitBreaker({
  name: 'bench',
  ...seedOptions,
  window: { type: 'count', size: 100 },
  failureRateThreshold: 0.5,
  minimumCalls: 20,
  slowCallDurationThreshold: 1000,
  slowCallRateThreshold: 0.8,
  halfOpenMaxProbes: 3,
  probeTimeout: 5000,
  isFailure: (e) => !(e instanceof TypeError),
  isResultFailure: (r) => r === -1,
});
trellisFull.onStateChange(() => undefined);
const trellisTimeWindow = new CircuitBreaker({
  ...seedOptions,
  window: { type: 'time', durationMs: 10_000, buckets: 10 },
  failureRateThreshold: 0.5,
  slowCallDurationThreshold: 1000,
  slowCallRateThreshold: 0.8,
});
const cockatiel = cbCircuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) });
const opossum = new OpossumBreaker(ok, { timeout: false, resetTimeout: 60_000 });
const opossumTimeout = new OpossumBreaker(ok, { resetTimeout: 60_000 });
const seed = new SeedBreaker(seedOptions);

const composedTrellis = wrap(
  retry({ maxAttempts: 3, backoff: { initialDelay: 10 } }),
  new CircuitBreaker(seedOptions),
  timeout(1000),
);
const composedCockatiel = cbWrap(
  cbRetry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 10 }) }),
  cbCircuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(5) }),
  cbTimeout(1000, TimeoutStrategy.Aggressive),
);

// Open copies of each breaker for the rejection path.
// They must stay open for the whole run (minutes), or the "open" rows would measure successes.
const OPEN_FOR = 24 * 3600_000;
const openTrellis = new CircuitBreaker({ ...seedOptions, timeout: OPEN_FOR });
const openCockatiel = cbCircuitBreaker(handleAll, {
  halfOpenAfter: OPEN_FOR,
  breaker: new ConsecutiveBreaker(5),
});
const openOpossum = new OpossumBreaker(boom, { timeout: false, resetTimeout: OPEN_FOR });
const openSeed = new SeedBreaker({ ...seedOptions, timeout: OPEN_FOR });
for (let i = 0; i < 5; i++) {
  await openTrellis.execute(boom).catch(() => undefined);
  await openCockatiel.execute(boom).catch(() => undefined);
  await openSeed.execute(boom).catch(() => undefined);
}
openOpossum.open();
if (openTrellis.state !== 'OPEN') throw new Error('trellis breaker did not open');
if (!isBrokenCircuitError(await openCockatiel.execute(ok).catch((e: unknown) => e))) {
  throw new Error('cockatiel breaker did not open');
}
if (!isCircuitBreakerOpenError(await openTrellis.execute(ok).catch((e: unknown) => e))) {
  throw new Error('trellis breaker did not reject');
}

const swallow = () => undefined;
const subjects: Array<{ name: string; group: 'success' | 'open' | 'composed'; run: () => unknown }> = [
  { name: 'bare await fn()', group: 'success', run: () => ok() },
  { name: 'naive seed breaker', group: 'success', run: () => seed.execute(ok) },
  { name: 'trellis breaker (seed options)', group: 'success', run: () => trellisSeed.execute(ok) },
  { name: 'trellis breaker (all features)', group: 'success', run: () => trellisFull.execute(ok) },
  { name: 'trellis breaker (time window)', group: 'success', run: () => trellisTimeWindow.execute(ok) },
  { name: 'cockatiel 3.2 breaker', group: 'success', run: () => cockatiel.execute(ok) },
  { name: 'opossum 9 (timeout off)', group: 'success', run: () => opossum.fire() },
  { name: 'opossum 9 (default timeout)', group: 'success', run: () => opossumTimeout.fire() },
  { name: 'open: naive seed breaker', group: 'open', run: () => openSeed.execute(ok).catch(swallow) },
  { name: 'open: trellis breaker', group: 'open', run: () => openTrellis.execute(ok).catch(swallow) },
  { name: 'open: cockatiel 3.2', group: 'open', run: () => openCockatiel.execute(ok).catch(swallow) },
  { name: 'open: opossum 9', group: 'open', run: () => openOpossum.fire().catch(swallow) },
  { name: 'composed: trellis wrap', group: 'composed', run: () => composedTrellis.execute(ok) },
  { name: 'composed: cockatiel wrap', group: 'composed', run: () => composedCockatiel.execute(ok) },
];

/**
 * A timing loop of its own for each subject. A loop shared by every subject (lib's
 * `opsPerSecond`) turns its `fn()` call site megamorphic after the first few subjects, which
 * penalises whoever is measured later and flatters whoever runs first; a fresh loop per
 * subject keeps the call monomorphic, as a real call site is.
 *
 * Rates are operations per second of this process's CPU time (`process.cpuUsage`), not of
 * wall time: on a shared 2-core machine, other processes take the CPU away at random, and
 * wall-clock rates then measure the neighbours more than the code.
 */
function loopFor(run: () => unknown): (cpuMs: number) => Promise<number> {
  return new Function(
    'run',
    'cpu',
    `return async function loop(cpuMs) {
       let ops = 0;
       const cpu0 = cpu();
       let used = 0;
       while (used < cpuMs) {
         for (let i = 0; i < 1000; i++) await run();
         ops += 1000;
         used = cpu() - cpu0;
       }
       return (ops * 1000) / used;
     };`,
  )(run, () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  });
}

const loops = new Map(subjects.map((s) => [s.name, loopFor(s.run)]));
for (const loop of loops.values()) await loop(quick ? 100 : 300); // warm-up (CPU ms)
const best = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const s of subjects) {
    const v = await (loops.get(s.name) as (ms: number) => Promise<number>)(durationMs);
    best.set(s.name, Math.max(best.get(s.name) ?? 0, v));
  }
}

// Prove the rows measured what they claim: open breakers still reject, the others are closed.
const stillOpen = [
  isCircuitBreakerOpenError(await openTrellis.execute(ok).catch((e: unknown) => e)),
  isBrokenCircuitError(await openCockatiel.execute(ok).catch((e: unknown) => e)),
  ((await openSeed.execute(ok).catch((e: unknown) => e)) as Error).message === 'Circuit breaker is open',
  openOpossum.opened,
];
if (stillOpen.includes(false)) throw new Error(`an "open" breaker closed during the run: ${stillOpen}`);
if ([trellisSeed, trellisFull, trellisTimeWindow].some((b) => b.state !== 'CLOSED')) {
  throw new Error('a success-path breaker left CLOSED during the run');
}

const row = (name: string): BenchRow => {
  const value = best.get(name) ?? 0;
  return { name, value, unit: 'ops/s', extra: { 'ns/op': value > 0 ? 1e9 / value : 0 } };
};
const rows: BenchRow[] = [
  ...withRatios(
    subjects.filter((s) => s.group === 'success').map((s) => row(s.name)),
    'bare await fn()',
  ),
  ...withRatios(
    subjects.filter((s) => s.group === 'open').map((s) => row(s.name)),
    'open: cockatiel 3.2',
  ),
  ...withRatios(
    subjects.filter((s) => s.group === 'composed').map((s) => row(s.name)),
    'composed: cockatiel wrap',
  ),
];
const v = (n: string) => best.get(n) ?? 0;
report('resilience', rows, [
  `trellis (all features) / cockatiel: ${(v('trellis breaker (all features)') / v('cockatiel 3.2 breaker')).toFixed(2)}×`,
  `trellis (all features) / opossum (timeout off): ${(v('trellis breaker (all features)') / v('opossum 9 (timeout off)')).toFixed(2)}×`,
  `trellis (seed options) / bare: ${(v('trellis breaker (seed options)') / v('bare await fn()')).toFixed(2)}×`,
  `open rejection, trellis / opossum: ${(v('open: trellis breaker') / v('open: opossum 9')).toFixed(2)}×`,
  `best of ${rounds} interleaved rounds of ${durationMs} ms of CPU time per subject; rates are ops per CPU-second of this process, so other load on the shared machine does not distort them`,
]);
