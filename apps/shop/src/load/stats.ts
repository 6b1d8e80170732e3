/** Latency statistics and the live progress line of the load generator. */

/** The `p`-th percentile (0–100) of `sorted` (ascending), nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** p50, p95, p99 and max of `values` (ms). */
export function latencySummary(values: readonly number[]): {
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
  };
}

/** A progress line redrawn in place on a terminal, or printed every 10 % otherwise. */
export class ProgressLine {
  private lastPercent = -1;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Redraws with `done` of `total` finished and a short status. */
  update(done: number, status: string): void {
    const percent = Math.floor((done / Math.max(1, this.total)) * 100);
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const width = 30;
    const filled = Math.round((percent / 100) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `  ${bar} ${String(percent).padStart(3)}%  ${done}/${this.total}  ${rate.toFixed(0)} orders/s  ${status}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
    } else if (percent >= this.lastPercent + 10 || done === this.total) {
      this.lastPercent = percent - (percent % 10);
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the line. */
  done(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
