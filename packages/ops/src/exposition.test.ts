import { ServiceMetrics } from '@trellis/service';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSeries, parseExposition } from './exposition.js';

describe('parseExposition', () => {
  it('reads names, labels and values, skipping comments, blank lines and timestamps', () => {
    const text = [
      '# HELP http_server_requests_total HTTP requests',
      '# TYPE http_server_requests_total counter',
      'http_server_requests_total{method="GET",route="/orders",status="200"} 12',
      '',
      '   up 1   ',
      'process_start_time_seconds 1.7e9 1700000000000',
      'ns:recorded_rule{ a = "x" , b="y",} 3',
      'trellis_bus_pending{group="g"} -2.5',
    ].join('\n');
    expect(parseExposition(text)).toEqual([
      {
        name: 'http_server_requests_total',
        labels: { method: 'GET', route: '/orders', status: '200' },
        value: 12,
      },
      { name: 'up', labels: {}, value: 1 },
      { name: 'process_start_time_seconds', labels: {}, value: 1.7e9 },
      { name: 'ns:recorded_rule', labels: { a: 'x', b: 'y' }, value: 3 },
      { name: 'trellis_bus_pending', labels: { group: 'g' }, value: -2.5 },
    ]);
  });

  it('reads the special values and escaped label values', () => {
    const [inf, minus, nan, escaped, bare] = parseExposition(
      [
        'x_bucket{le="+Inf"} +Inf',
        'x -Inf',
        'x NaN',
        String.raw`x{path="C:\\dir",quote="say \"hi\"",nl="a\nb",brace="}{,="} 1`,
        'x Inf',
      ].join('\n'),
    );
    expect(bare?.value).toBe(Number.POSITIVE_INFINITY);
    expect(inf).toEqual({ name: 'x_bucket', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY });
    expect(minus?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(nan?.value)).toBe(true);
    expect(escaped?.labels).toEqual({ path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb', brace: '}{,=' });
  });

  it.each([
    ['a name that is not one', '9lives 1'],
    ['a missing value', 'up'],
    ['a value that is not a number', 'up one'],
    ['an unquoted label value', 'up{a=b} 1'],
    ['an unterminated label value', 'up{a="b} 1'],
    ['a bad label name', 'up{-a="b"} 1'],
  ])('throws a SyntaxError naming the line for %s', (_what, line) => {
    expect(() => parseExposition(`ok 1\n${line}\n`)).toThrow(SyntaxError);
    expect(() => parseExposition(line)).toThrow(line.slice(0, 2));
  });

  it('reads what a real service registry exposes, histograms as separate series', async () => {
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    metrics.observeHttp('POST', '/orders', 201, 0.02);
    metrics.observeHttp('POST', '/orders', 201, 0.2);
    const samples = parseExposition(await metrics.registry.metrics());
    const of = (name: string) => samples.filter((s) => s.name === name);
    expect(of('http_server_requests_total')).toEqual([
      {
        name: 'http_server_requests_total',
        labels: { method: 'POST', route: '/orders', status: '201', service: 'orders' },
        value: 2,
      },
    ]);
    const buckets = of('http_server_request_duration_seconds_bucket');
    expect(buckets.find((b) => b.labels.le === '0.025')?.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(2);
    expect(of('http_server_request_duration_seconds_count')[0]?.value).toBe(2);
    expect(of('http_server_request_duration_seconds_sum')[0]?.value).toBeCloseTo(0.22);
  });
});

describe('formatSeries', () => {
  it('writes labels sorted and escaped', () => {
    expect(formatSeries({ name: 'up', labels: {} })).toBe('up');
    expect(formatSeries({ name: 'x', labels: { b: 'say "hi"', a: 'C:\\d\nx' } })).toBe(
      String.raw`x{a="C:\\d\nx",b="say \"hi\""}`,
    );
  });

  it('round-trips through the parser for any label values', () => {
    const name = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
    const labels = fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/), fc.string(), {
      maxKeys: 5,
    });
    // -0 is written as 0 (as Prometheus writes it): no distinction worth keeping.
    const value = fc.double({ noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    fc.assert(
      fc.property(name, labels, value, (n, l, v) => {
        const [sample] = parseExposition(`${formatSeries({ name: n, labels: l })} ${formatValue(v)}\n`);
        expect(sample).toEqual({ name: n, labels: l, value: v });
      }),
    );
  });
});

function formatValue(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
