import { get } from '../api';
import { Chart } from '../components/chart';
import { usePoll } from '../hooks';
import type { ChartPoint } from '../types';

type Field = 'throughput' | 'errors' | 'p99Ms' | 'lag' | 'outbox' | 'handled';

/** Turns points into aligned columns: one array per key, missing values as 0. */
export function columns(
  points: ChartPoint[],
  field: Field,
): { x: number[]; series: Record<string, number[]> } {
  const keys = new Set(points.flatMap((p) => Object.keys(p[field])));
  const series: Record<string, number[]> = {};
  for (const k of keys) series[k] = points.map((p) => p[field][k] ?? 0);
  return { x: points.map((p) => p.at / 1000), series };
}

const CHARTS: Array<[Field, string, string]> = [
  ['throughput', 'Throughput (requests/s)', ''],
  ['errors', 'Errors (5xx/s)', ''],
  ['p99Ms', 'p99 latency (ms)', ' ms'],
  ['handled', 'Messages handled (/s)', ''],
  ['lag', 'Consumer lag (messages waiting)', ''],
  ['outbox', 'Outbox backlog (rows)', ''],
];

export function ChartsPage() {
  const { data, error } = usePoll(() => get<{ points: ChartPoint[] }>('/charts', { minutes: 15 }), 3000);
  const points = data?.points ?? [];
  return (
    <section>
      <h2>
        Live charts <span className="muted">last 15 minutes, updated every few seconds</span>
      </h2>
      {error ? <div className="error">{error}</div> : null}
      <div className="charts">
        {CHARTS.map(([field, title, unit]) => {
          const c = columns(points, field);
          return <Chart key={field} title={title} x={c.x} series={c.series} unit={unit} />;
        })}
      </div>
    </section>
  );
}
