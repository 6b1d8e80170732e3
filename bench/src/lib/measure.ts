import { performance } from 'node:perf_hooks';

/** Latency percentiles in milliseconds from a list of samples. */
export function percentiles(samplesMs: number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}

/**
 * Runs `fn` in a tight async loop for `durationMs` after a warm-up and returns operations per
 * second. Runs in batches so the clock is read rarely and does not dominate tiny operations.
 */
export async function opsPerSecond(
  fn: () => unknown,
  options: { durationMs?: number; warmupMs?: number; batch?: number } = {},
): Promise<number> {
  const { durationMs = 2000, warmupMs = 500, batch = 1000 } = options;
  const runFor = async (ms: number) => {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < batch; i++) await fn();
      ops += batch;
      now = performance.now();
    }
    return (ops * 1000) / (now - start);
  };
  await runFor(warmupMs);
  return runFor(durationMs);
}

/** Best of `rounds` runs of `measure` (reduces noise from the shared 2-core machine). */
export async function bestOf(rounds: number, measure: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let i = 0; i < rounds; i++) best = Math.max(best, await measure());
  return best;
}
