import { describe, expect, it } from 'vitest';
import { type ChaosReport, formatExperiment, formatMarkdown, formatTable, verdict } from './report.js';
import type { ExperimentResult } from './run-experiment.js';

function result(name: string, over: Partial<ExperimentResult> = {}): ExperimentResult {
  return {
    name,
    category: 'process',
    fault: `SIGKILL ${name}`,
    hypothesis: 'nothing is lost',
    status: 'passed',
    orders: { attempted: 120, completed: 110, compensated: 8, failed: 1, rejected: 1, retried: 4 },
    recoveryMs: 2500,
    checks: [{ name: 'recovered', ok: true, detail: 'orders settle again 2.5 s after the fault struck' }],
    deadLetters: { found: 0, replayed: 0, groups: {} },
    invariants: { ok: true, violations: [], waitedMs: 1200, orders: 120 },
    durationMs: 30_000,
    ...over,
  };
}

const violated = result('kill-x', {
  status: 'failed',
  invariants: {
    ok: false,
    violations: [
      { invariant: 'no-double-charge', subject: 'o1', detail: '2 charges at the processor' },
      { invariant: 'no-double-charge', subject: 'o2', detail: '2 charges at the processor' },
    ],
    waitedMs: 60_000,
    orders: 240,
  },
});

describe('chaos report', () => {
  it('is ok only when every experiment that ran passed with no violation', () => {
    expect(verdict([result('a'), result('b', { status: 'skipped', reason: 'needs namespaces' })])).toEqual({
      ok: true,
      violations: 0,
      failed: [],
    });
    expect(verdict([result('a'), violated])).toEqual({ ok: false, violations: 2, failed: ['kill-x'] });
    expect(verdict([result('a', { status: 'aborted' })]).ok).toBe(false);
    // A run in which nothing ran proves nothing.
    expect(verdict([result('a', { status: 'skipped' })]).ok).toBe(false);
  });

  it('prints one table row per experiment with outcomes, recovery and invariants', () => {
    const table = formatTable([result('kill-orders'), violated]).split('\n');
    expect(table[0]).toMatch(
      /^\| experiment +\| fault +\| attempted \| completed \| compensated \| failed \| recovery/,
    );
    expect(table[2]).toContain('| kill-orders ');
    expect(table[2]).toContain(
      '| 120       | 110       | 8           | 2      | 2.5 s    | all hold (1.2 s)',
    );
    expect(table[3]).toContain('2 violated: no-double-charge');
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
  });

  it('prints an experiment block with its checks and violations', () => {
    const block = formatExperiment(violated);
    expect(block).toContain(
      '120 attempted: 110 completed, 8 compensated, 1 failed, 1 rejected (4 retried by key)',
    );
    expect(block).toContain('ok          recovered: orders settle again 2.5 s after the fault struck');
    expect(block).toContain('no-double-charge o1: 2 charges at the processor');
    expect(block).toContain('result      failed');
  });

  it('writes a Markdown document with when, where, the settings, the table and every block', () => {
    const experiments = [
      result('kill-orders'),
      violated,
      result('partition', { status: 'skipped', reason: 'no namespaces' }),
    ];
    const report: ChaosReport = {
      version: 1,
      startedAt: '2026-11-25T16:00:00.000Z',
      durationMs: 600_000,
      mode: 'distributed',
      machine: { cpus: 2, node: 'v20.20.2', platform: 'linux x64' },
      settings: {
        steady: { minOrdersPerSecond: 1, maxErrorRate: 0.05 },
        steadyMs: 5000,
        holdScale: 1,
        recoveryTimeoutMs: 90_000,
        settleMs: 60_000,
        concurrency: 6,
        maxOrders: 1500,
      },
      namespaces: { used: true },
      experiments,
      ...verdict(experiments),
    };
    const md = formatMarkdown(report);
    expect(md).toContain('# Chaos run, 2026-11-25');
    expect(md).toContain('- machine: 2 cores, linux x64, Node v20.20.2');
    expect(md).toContain('at least 1 orders/s settled, error rate at most 5.0 %');
    expect(md).toContain(formatTable(experiments));
    expect(md).toContain('**FAILED:** 1 experiment(s) failed or aborted (kill-x), 2 invariant violation(s).');
    expect(md).toContain(formatExperiment(violated));
    expect(md).not.toContain('partition —');
  });
});
