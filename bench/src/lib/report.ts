import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured row: a subject, its numbers, and (optionally) its ratio to a baseline. */
export interface BenchRow {
  name: string;
  /** Main throughput figure (ops/s, tx/s, msgs/s, req/s…); unit named in `unit`. */
  value: number;
  unit: string;
  /** Ratio of `value` to the row it is compared with, computed in the same run. */
  ratio?: number;
  ratioTo?: string;
  /** Any further numbers: latency percentiles, counts, memory. */
  extra?: Record<string, number | string>;
}

/** Everything one benchmark run produced. */
export interface BenchReport {
  bench: string;
  date: string;
  machine: { node: string; cpus: number; cpuModel: string };
  rows: BenchRow[];
  notes?: string[];
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'results');

/** Adds `ratio` to each row against the row named `baseline`. */
export function withRatios(rows: BenchRow[], baseline: string): BenchRow[] {
  const base = rows.find((r) => r.name === baseline);
  if (!base) return rows;
  return rows.map((r) => ({ ...r, ratio: r.value / base.value, ratioTo: baseline }));
}

/** Prints a table and writes `bench/results/<bench>.json`. */
export function report(bench: string, rows: BenchRow[], notes: string[] = []): BenchReport {
  const out: BenchReport = {
    bench,
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' },
    rows,
    notes,
  };
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
  console.log(`\n${bench} — ${out.machine.cpus} cores, Node ${out.machine.node}`);
  console.table(
    rows.map((r) => ({
      subject: r.name,
      [r.unit]: fmt(r.value),
      ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.ratioTo}`,
      ...Object.fromEntries(
        Object.entries(r.extra ?? {}).map(([k, v]) => [k, typeof v === 'number' ? fmt(v) : v]),
      ),
    })),
  );
  for (const n of notes) console.log(`- ${n}`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${bench}.json`), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}
