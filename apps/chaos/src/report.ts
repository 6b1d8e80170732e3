/**
 * The chaos report: one row per experiment (fault, orders attempted, completed, compensated,
 * failed, recovery time, invariants, result), a block per experiment with its phases and
 * checks, and the same as JSON for machines. A run is ok only when every experiment that ran
 * passed and no invariant was violated.
 */
import type { ExperimentResult, RunSettings } from './run-experiment.js';

/** The whole run. */
export interface ChaosReport {
  version: 1;
  startedAt: string;
  durationMs: number;
  mode: 'distributed' | 'embedded';
  machine: { cpus: number; node: string; platform: string };
  settings: RunSettings;
  /** Whether partition experiments could use network namespaces (and why not). */
  namespaces: { used: boolean; reason?: string };
  experiments: ExperimentResult[];
  ok: boolean;
  /** Invariant violations over all experiments. */
  violations: number;
  /** Experiments that failed or were aborted. */
  failed: string[];
}

/** Sums up results into the report's verdict fields. */
export function verdict(
  results: readonly ExperimentResult[],
): Pick<ChaosReport, 'ok' | 'violations' | 'failed'> {
  const failed = results.filter((r) => r.status === 'failed' || r.status === 'aborted').map((r) => r.name);
  const violations = results.reduce((n, r) => n + (r.invariants?.violations.length ?? 0), 0);
  return {
    ok: failed.length === 0 && violations === 0 && results.some((r) => r.status === 'passed'),
    violations,
    failed,
  };
}

const seconds = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

function invariantCell(r: ExperimentResult): string {
  if (!r.invariants) return '–';
  if (r.invariants.ok) return `all hold (${seconds(r.invariants.waitedMs)})`;
  const names = [...new Set(r.invariants.violations.map((v) => v.invariant))];
  return `${r.invariants.violations.length} violated: ${names.join(', ')}`;
}

function pad(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join(
    '\n',
  );
}

/** The summary table (Markdown, so the README can carry it as printed). */
export function formatTable(results: readonly ExperimentResult[]): string {
  const rows = [
    [
      'experiment',
      'fault',
      'attempted',
      'completed',
      'compensated',
      'failed',
      'recovery',
      'invariants',
      'result',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.name,
      r.fault,
      String(r.orders.attempted),
      String(r.orders.completed),
      String(r.orders.compensated),
      String(r.orders.failed + r.orders.rejected),
      seconds(r.recoveryMs),
      invariantCell(r),
      r.status === 'skipped' ? `skipped: ${r.reason}` : r.status,
    ]);
  }
  return pad(rows);
}

/** One experiment's block: phases, checks, dead letters, violations. */
export function formatExperiment(r: ExperimentResult): string {
  const lines = [`${r.name} — ${r.fault}`, `  hypothesis  ${r.hypothesis}`];
  if (r.detail) lines.push(`  injected    ${r.detail}`);
  const window = (
    label: string,
    w: { ordersPerSecond: number; errorRate: number; ended: number } | undefined,
  ) => {
    if (w)
      lines.push(
        `  ${label.padEnd(11)} ${w.ordersPerSecond.toFixed(1)} orders/s, error rate ${(w.errorRate * 100).toFixed(1)} % (${w.ended} orders ended)`,
      );
  };
  window('before', r.before?.stats);
  window('during', r.during);
  window('after', r.after?.stats);
  const o = r.orders;
  lines.push(
    `  orders      ${o.attempted} attempted: ${o.completed} completed, ${o.compensated} compensated, ${o.failed} failed, ${o.rejected} rejected (${o.retried} retried by key)`,
  );
  lines.push(`  recovery    ${seconds(r.recoveryMs)}`);
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}        ${c.name}: ${c.detail}`);
  if (r.deadLetters.found > 0)
    lines.push(
      `  dead letters ${r.deadLetters.found} (${Object.entries(r.deadLetters.groups)
        .map(([g, n]) => `${g} ${n}`)
        .join(', ')}), ${r.deadLetters.replayed} replayed`,
    );
  if (r.invariants) {
    lines.push(`  invariants  ${invariantCell(r)} over ${r.invariants.orders} orders`);
    for (const v of r.invariants.violations.slice(0, 10))
      lines.push(`    ${v.invariant} ${v.subject}: ${v.detail}`);
  }
  lines.push(`  result      ${r.status}${r.reason ? ` (${r.reason})` : ''} in ${seconds(r.durationMs)}`);
  return lines.join('\n');
}

/** The whole report for a terminal. */
export function formatReport(report: ChaosReport): string {
  const ran = report.experiments.filter((r) => r.status !== 'skipped').length;
  return [
    `Chaos run, ${report.mode} mode, ${ran} experiments in ${seconds(report.durationMs)} (${report.machine.cpus} cores, Node ${report.machine.node})`,
    '',
    formatTable(report.experiments),
    '',
    report.ok
      ? 'Every experiment passed and every invariant held.'
      : `FAILED: ${report.failed.length} experiment(s) failed or aborted${report.failed.length ? ` (${report.failed.join(', ')})` : ''}, ${report.violations} invariant violation(s).`,
  ].join('\n');
}

/**
 * The whole report as a Markdown document (for `--markdown`, and the results checked into the
 * repository): when and where it ran, with which settings, the table, the verdict, and every
 * experiment's block.
 */
export function formatMarkdown(report: ChaosReport): string {
  const s = report.settings;
  const ran = report.experiments.filter((r) => r.status !== 'skipped');
  return [
    `# Chaos run, ${report.startedAt.slice(0, 10)}`,
    '',
    `- started ${report.startedAt}, took ${seconds(report.durationMs)}`,
    `- machine: ${report.machine.cpus} cores, ${report.machine.platform}, Node ${report.machine.node}`,
    `- mode: ${report.mode}; network namespaces: ${report.namespaces.used ? 'used' : `not used (${report.namespaces.reason ?? 'unknown'})`}`,
    `- steady state: at least ${s.steady.minOrdersPerSecond} orders/s settled, error rate at most ${(s.steady.maxErrorRate * 100).toFixed(1)} %, over ${s.steadyMs / 1000} s windows`,
    `- load: ${s.concurrency} orders in flight, at most ${s.maxOrders} per phase; holds ×${s.holdScale}; recovery within ${s.recoveryTimeoutMs / 1000} s; sagas terminal within ${s.settleMs / 1000} s`,
    '',
    formatTable(report.experiments),
    '',
    report.ok
      ? '**Every experiment passed and every invariant held.**'
      : `**FAILED:** ${report.failed.length} experiment(s) failed or aborted${report.failed.length ? ` (${report.failed.join(', ')})` : ''}, ${report.violations} invariant violation(s).`,
    '',
    '## Experiments',
    '',
    '```',
    ran.map(formatExperiment).join('\n\n'),
    '```',
    '',
  ].join('\n');
}
