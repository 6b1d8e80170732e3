import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ef4444', '#14b8a6', '#ec4899', '#64748b'];

/** A live time-series chart: x in epoch seconds, one line per series. */
export function Chart({
  title,
  x,
  series,
  unit,
}: {
  title: string;
  x: number[];
  series: Record<string, number[]>;
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = Object.keys(series).sort();
  const key = names.join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: the chart is rebuilt only when its series change
  useEffect(() => {
    if (!box.current) return;
    plot.current?.destroy();
    plot.current = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height: 180,
        legend: { show: true },
        series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5 }))],
        axes: [{}, { values: (_u: uPlot, vals: number[]) => vals.map((v) => `${v}${unit}`) }],
      },
      [x, ...names.map((n) => series[n] ?? [])],
      box.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => {
    plot.current?.setData([x, ...names.map((n) => series[n] ?? [])]);
  });
  return (
    <figure className="chart" data-chart={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} />
      {names.length === 0 ? <p className="muted">No data yet.</p> : null}
    </figure>
  );
}
