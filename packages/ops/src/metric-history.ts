/**
 * A short in-memory time series store fed by scrapes: what the console's live charts and the
 * alert evaluator read. Each series is keyed by the scrape target and its exposition line
 * (`target|name{labels}`) and keeps `[time, value]` points for the retention period. Queries
 * mirror the PromQL the rules file uses — `increase`, `rate`, the latest value, bucket
 * quantiles — over the points in a window, with counter resets handled.
 */
import { formatSeries, type Sample } from './exposition.js';

/** Label matchers: exact values, a RegExp (anchored like PromQL's `=~`), `{ not }` (`!=`), `{ notMatch }` (`!~`). */
export type Matchers = Record<string, string | RegExp | { not: string } | { notMatch: RegExp }>;

/** One series with its points. */
export interface Series {
  target: string;
  name: string;
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

/** A value per label set, the result of a query (like a PromQL instant vector). */
export type Vector = Array<{ labels: Record<string, string>; value: number }>;

function matches(labels: Record<string, string>, m: Matchers): boolean {
  for (const [k, want] of Object.entries(m)) {
    const v = labels[k] ?? '';
    if (typeof want === 'string') {
      if (v !== want) return false;
    } else if (want instanceof RegExp) {
      if (!new RegExp(`^(?:${want.source})$`).test(v)) return false;
    } else if ('notMatch' in want) {
      if (new RegExp(`^(?:${want.notMatch.source})$`).test(v)) return false;
    } else if (v === want.not) return false;
  }
  return true;
}

function pick(labels: Record<string, string>, by: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of by) if (labels[k] !== undefined && labels[k] !== '') out[k] = labels[k] as string;
  return out;
}

/** Sums (or maxes) values grouped by `by`. */
export function aggregate(vector: Vector, by: readonly string[], op: 'sum' | 'max' = 'sum'): Vector {
  const groups = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const v of vector) {
    const labels = pick(v.labels, by);
    const key = JSON.stringify(labels);
    const g = groups.get(key);
    if (!g) groups.set(key, { labels, value: v.value });
    else g.value = op === 'sum' ? g.value + v.value : Math.max(g.value, v.value);
  }
  return [...groups.values()];
}

/**
 * The store.
 *
 * @example
 * ```ts
 * const history = new MetricHistory({ retentionMs: 3_900_000 });
 * history.add(Date.now(), 'orders#0', parseExposition(await (await fetch(url)).text()));
 * history.increase('http_server_requests_total', { status: /5../ }, 300_000, Date.now());
 * ```
 */
export class MetricHistory {
  private readonly series = new Map<string, Series>();
  readonly retentionMs: number;
  private readonly keep: (name: string) => boolean;

  constructor(options: { retentionMs?: number; keep?: (name: string) => boolean } = {}) {
    this.retentionMs = options.retentionMs ?? 65 * 60_000;
    this.keep = options.keep ?? (() => true);
  }

  /** Adds one scrape of `target` taken at `at`; `target` becomes the `instance` label. */
  add(at: number, target: string, samples: readonly Sample[]): void {
    for (const s of samples) {
      if (!this.keep(s.name)) continue;
      const labels = { ...s.labels, instance: target };
      const key = `${target}|${formatSeries({ name: s.name, labels })}`;
      let series = this.series.get(key);
      if (!series) {
        series = { target, name: s.name, labels, points: [] };
        this.series.set(key, series);
      }
      series.points.push([at, s.value]);
    }
    this.prune(at);
  }

  private prune(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const [key, s] of this.series) {
      let drop = 0;
      while (drop < s.points.length && (s.points[drop] as [number, number])[0] < cutoff) drop++;
      if (drop > 0) s.points.splice(0, drop);
      if (s.points.length === 0) this.series.delete(key);
    }
  }

  /** Every series named `name` whose labels match. */
  select(name: string, m: Matchers = {}): Series[] {
    return [...this.series.values()].filter((s) => s.name === name && matches(s.labels, m));
  }

  /**
   * The latest value of each matching series, if taken within `stalenessMs` of `now` (like
   * PromQL's 5-minute lookback: a target that stopped reporting drops out).
   */
  latest(name: string, m: Matchers, now: number, stalenessMs = 5 * 60_000): Vector {
    const out: Vector = [];
    for (const s of this.select(name, m)) {
      let last: [number, number] | undefined;
      for (const p of s.points) if (p[0] <= now) last = p;
      if (last && now - last[0] <= stalenessMs) out.push({ labels: s.labels, value: last[1] });
    }
    return out;
  }

  /**
   * Latest values of series that had no point at or before `since` (PromQL's
   * `x unless x offset <range>`): counters that appeared within the window.
   */
  newSince(name: string, since: number, now: number): Vector {
    const out: Vector = [];
    for (const s of this.select(name)) {
      const first = s.points[0];
      if (!first || first[0] <= since) continue;
      const current = this.latest(name, exactly(s.labels), now)[0];
      if (current) out.push(current);
    }
    return out;
  }

  /** Largest value of each matching series within `(now - rangeMs, now]`. */
  maxOverTime(name: string, m: Matchers, rangeMs: number, now: number): Vector {
    const out: Vector = [];
    for (const s of this.select(name, m)) {
      const inRange = s.points.filter(([t]) => t > now - rangeMs && t <= now);
      if (inRange.length > 0) out.push({ labels: s.labels, value: Math.max(...inRange.map(([, v]) => v)) });
    }
    return out;
  }

  /**
   * Counter increase of each matching series within `(now - rangeMs, now]`, resets added
   * back. Needs two points in the window (as PromQL does); no extrapolation.
   */
  increase(name: string, m: Matchers, rangeMs: number, now: number): Vector {
    return this.overRange(name, m, rangeMs, now, (points) => increaseOf(points));
  }

  /** Per-second rate: {@link increase} divided by the time its points span. */
  rate(name: string, m: Matchers, rangeMs: number, now: number): Vector {
    return this.overRange(name, m, rangeMs, now, (points) => {
      const span = ((points.at(-1) as [number, number])[0] - (points[0] as [number, number])[0]) / 1000;
      return span > 0 ? increaseOf(points) / span : undefined;
    });
  }

  private overRange(
    name: string,
    m: Matchers,
    rangeMs: number,
    now: number,
    fn: (points: Array<[number, number]>) => number | undefined,
  ): Vector {
    const out: Vector = [];
    for (const s of this.select(name, m)) {
      const inRange = s.points.filter(([t]) => t > now - rangeMs && t <= now);
      if (inRange.length < 2) continue;
      const value = fn(inRange);
      if (value !== undefined) out.push({ labels: s.labels, value });
    }
    return out;
  }

  /**
   * `histogram_quantile(q, sum by (le, …by) (increase(<name>_bucket[range])))`: the quantile
   * per group, linearly interpolated inside its bucket. Groups without observations are left out.
   */
  quantile(
    q: number,
    name: string,
    m: Matchers,
    by: readonly string[],
    rangeMs: number,
    now: number,
  ): Vector {
    const buckets = aggregate(this.increase(`${name}_bucket`, m, rangeMs, now), [...by, 'le']);
    const groups = new Map<string, { labels: Record<string, string>; b: Array<[number, number]> }>();
    for (const v of buckets) {
      const { le, ...labels } = v.labels;
      const key = JSON.stringify(labels);
      const g = groups.get(key) ?? { labels, b: [] };
      g.b.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), v.value]);
      groups.set(key, g);
    }
    const out: Vector = [];
    for (const { labels, b } of groups.values()) {
      b.sort((x, y) => x[0] - y[0]);
      const total = b.at(-1)?.[1] ?? 0;
      if (total <= 0) continue;
      const rank = q * total;
      let prevBound = 0;
      let prevCount = 0;
      for (const [bound, count] of b) {
        if (count >= rank) {
          const value =
            bound === Number.POSITIVE_INFINITY
              ? prevBound
              : prevBound + (bound - prevBound) * ((rank - prevCount) / Math.max(count - prevCount, 1e-9));
          out.push({ labels, value });
          break;
        }
        prevBound = bound;
        prevCount = count;
      }
    }
    return out;
  }

  /** Number of series held (for tests and limits). */
  get size(): number {
    return this.series.size;
  }
}

function increaseOf(points: Array<[number, number]>): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const prev = (points[i - 1] as [number, number])[1];
    const cur = (points[i] as [number, number])[1];
    total += cur >= prev ? cur - prev : cur;
  }
  return total;
}

function exactly(labels: Record<string, string>): Matchers {
  return { ...labels };
}
