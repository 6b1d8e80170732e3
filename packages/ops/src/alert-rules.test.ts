/**
 * The shipped rules file, checked three ways: promtool parses it, its alerts match the
 * in-process evaluator's (names, `for`, severities, summaries), and on one scripted scenario
 * of metrics emitted by the real Trellis metric code, `promtool test rules` (Prometheus's own
 * evaluator) and {@link AlertEvaluator} raise exactly the same alerts at every checked minute.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@trellis/core';
import { CircuitBreaker } from '@trellis/resilience';
import { busMetricsObserver, ServiceMetrics } from '@trellis/service';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AlertEvaluator } from './alert-evaluator.js';
import { trellisAlertRules } from './alert-rules.js';
import { formatSeries, parseExposition, type Sample } from './exposition.js';
import { MetricHistory } from './metric-history.js';

const RULES = fileURLToPath(new URL('../prometheus/trellis-alerts.rules.yml', import.meta.url));
const promtool = spawnSync('promtool', ['--version']).status === 0;
if (process.env.CI === 'true' && !promtool)
  throw new Error('promtool is missing: apt-get install -y prometheus');

type YamlRule = {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
};
const yamlRules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: YamlRule[] }> }
).groups.flatMap((g) => g.rules);
const ms = (d = '0m') => Number(d.replace(/m$/, '')) * 60_000;

describe('alert rules file', () => {
  it('has the same alerts as the in-process rules', () => {
    const ts = trellisAlertRules();
    expect(yamlRules.map((r) => r.alert)).toEqual(ts.map((r) => r.name));
    for (const r of ts) {
      const y = yamlRules.find((x) => x.alert === r.name) as YamlRule;
      expect({ for: ms(y.for), severity: y.labels.severity, summary: y.annotations.summary }).toEqual({
        for: r.forMs,
        severity: r.severity,
        summary: r.summary,
      });
    }
  });

  it.skipIf(!promtool)('passes promtool check rules', () => {
    expect(execFileSync('promtool', ['check', 'rules', RULES]).toString()).toContain(
      'SUCCESS: 7 rules found',
    );
  });

  it.skipIf(!promtool)('is loaded by the example Prometheus config, which promtool accepts', () => {
    const config = fileURLToPath(new URL('../prometheus/prometheus.example.yml', import.meta.url));
    const out = execFileSync('promtool', ['check', 'config', config]).toString();
    expect(out).toContain('SUCCESS: 1 rule files found');
    expect(out).toContain('SUCCESS: 7 rules found');
  });

  it.skipIf(!promtool)('raises the same alerts as promtool on a scripted scenario', async () => {
    // Two instances' real metric registries, driven minute by minute.
    const clock = new ManualClock(0);
    const payments = new ServiceMetrics({ serviceName: 'payments', defaultMetrics: false });
    const orders = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    const breaker = new CircuitBreaker({
      name: 'card-processor',
      failureThreshold: 3,
      timeout: 3_600_000,
      clock,
    });
    payments.trackBreaker(breaker, 'card-processor');
    const bus = busMetricsObserver(orders);
    let failedSagas = 0;
    let backlog = 0;
    orders.sagaStates(() => [{ saga: 'place-order', state: 'failed', count: failedSagas }]);
    orders.outboxBacklog(() => backlog);
    const scrapes: Array<{ minute: number; target: string; samples: Sample[] }> = [];
    for (let minute = 0; minute <= 70; minute++) {
      for (let i = 0; i < 20; i++) orders.observeHttp('POST', '/orders', 201, 0.02);
      if (minute >= 5) for (let i = 0; i < 5; i++) orders.observeHttp('POST', '/orders', 500, 0.5);
      if (minute === 10)
        for (let i = 0; i < 3; i++)
          await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
      if (minute === 20 || minute === 25)
        bus.deadLettered({
          transport: 'sqlite',
          group: 'notifications',
          topic: 'order.OrderPaid',
          reason: 'failed',
        });
      if (minute === 40) failedSagas = 1;
      if (minute === 45)
        bus.lag({
          transport: 'sqlite',
          group: 'orders-read-model',
          pattern: 'order.*',
          pending: 5000,
          inFlight: 0,
        });
      if (minute === 50) backlog = 900;
      scrapes.push({ minute, target: 'orders', samples: parseExposition(await orders.registry.metrics()) });
      if (minute < 60)
        scrapes.push({
          minute,
          target: 'payments',
          samples: parseExposition(await payments.registry.metrics()),
        });
    }
    // The in-process evaluator, every minute; payments stops answering at minute 60.
    const history = new MetricHistory();
    const evaluator = new AlertEvaluator({ rules: trellisAlertRules() });
    const evalAt = [3, 12, 13, 21, 27, 36, 41, 46, 48, 56, 62, 69];
    const firing = new Map<
      number,
      Array<{ alertname: string; labels: Record<string, string>; summary: string }>
    >();
    for (let minute = 0; minute <= 70; minute++) {
      for (const s of scrapes.filter((x) => x.minute === minute))
        history.add(minute * 60_000, s.target, [
          ...s.samples,
          { name: 'up', labels: { service: s.target }, value: 1 },
        ]);
      if (minute >= 60)
        history.add(minute * 60_000, 'payments', [{ name: 'up', labels: { service: 'payments' }, value: 0 }]);
      const active = await evaluator.evaluate(history, minute * 60_000);
      if (evalAt.includes(minute))
        firing.set(
          minute,
          active
            .filter((a) => a.state === 'firing')
            .map((a) => ({ alertname: a.name, labels: a.labels, summary: a.annotations.summary })),
        );
    }
    expect(new Set([...firing.values()].flat().map((a) => a.alertname))).toEqual(
      new Set(yamlRules.map((r) => r.alert)),
    );

    // The same samples as promtool input series, and the evaluator's alerts as its expectations.
    const series = new Map<string, Array<number | undefined>>();
    const put = (key: string, minute: number, value: number) => {
      const values = series.get(key) ?? new Array(71).fill(undefined);
      values[minute] = value;
      series.set(key, values);
    };
    for (const s of scrapes) {
      for (const x of s.samples)
        put(formatSeries({ name: x.name, labels: { ...x.labels, instance: s.target } }), s.minute, x.value);
      put(formatSeries({ name: 'up', labels: { service: s.target, instance: s.target } }), s.minute, 1);
    }
    for (let minute = 60; minute <= 70; minute++)
      put(formatSeries({ name: 'up', labels: { service: 'payments', instance: 'payments' } }), minute, 0);
    const test = {
      rule_files: [RULES],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [...series].map(([key, values]) => ({
            series: key,
            values: values
              .map((v) => (v === undefined ? '_' : Number.isFinite(v) ? String(v) : v > 0 ? 'Inf' : '-Inf'))
              .join(' '),
          })),
          alert_rule_test: evalAt.flatMap((minute) =>
            yamlRules.map((r) => ({
              eval_time: `${minute}m`,
              alertname: r.alert,
              exp_alerts: (firing.get(minute) ?? [])
                .filter((a) => a.alertname === r.alert)
                .map((a) => {
                  const { alertname: _n, ...labels } = a.labels;
                  const rule = trellisAlertRules().find((x) => x.name === r.alert);
                  return {
                    exp_labels: labels,
                    exp_annotations: {
                      summary: a.summary,
                      description: renderDescription(rule?.description ?? '', a.labels),
                    },
                  };
                }),
            })),
          ),
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'trellis-promtool-'));
    writeFileSync(join(dir, 'test.json'), JSON.stringify(test));
    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'test.json')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toContain('SUCCESS');
  });
});

function renderDescription(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*\$labels\.([a-zA-Z_]+)\s*\}\}/g, (_m, k: string) => labels[k] ?? '');
}
