import { ValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { ChaosEnvironmentError, ChaosFaultError } from './errors.js';
import { EXIT_CODES, errorExitCode, reportExitCode } from './exit-code.js';
import { verdict } from './report.js';
import type { ExperimentResult } from './run-experiment.js';

function result(over: Partial<ExperimentResult> = {}): ExperimentResult {
  return {
    name: 'kill-orders',
    category: 'process',
    fault: 'SIGKILL orders',
    hypothesis: 'nothing is lost',
    status: 'passed',
    orders: { attempted: 10, completed: 9, compensated: 1, failed: 0, rejected: 0, retried: 0 },
    checks: [],
    deadLetters: { found: 0, replayed: 0, groups: {} },
    invariants: { ok: true, violations: [], waitedMs: 100, orders: 10 },
    durationMs: 1000,
    ...over,
  };
}

const doubleCharge = result({
  status: 'failed',
  invariants: {
    ok: false,
    violations: [{ invariant: 'no-double-charge', subject: 'o1', detail: '2 charges' }],
    waitedMs: 60_000,
    orders: 10,
  },
});

describe('exit codes of npm run chaos', () => {
  it('is 0 only when every experiment that ran passed with every invariant holding', () => {
    expect(reportExitCode(verdict([result()]))).toBe(0);
    expect(reportExitCode(verdict([result(), result({ status: 'skipped', reason: 'no namespaces' })]))).toBe(
      0,
    );
  });

  it('is 1 for an invariant violation, a failed or aborted experiment, or a run where nothing ran', () => {
    expect(reportExitCode(verdict([result(), doubleCharge]))).toBe(EXIT_CODES.findings);
    expect(reportExitCode(verdict([result({ status: 'aborted', reason: 'no steady state' })]))).toBe(1);
    expect(reportExitCode(verdict([result({ status: 'failed', checks: [] })]))).toBe(1);
    expect(reportExitCode(verdict([result({ status: 'skipped' })]))).toBe(1);
    // A violation fails the run even if a report claimed ok: the counts decide.
    expect(reportExitCode({ ok: true, violations: 1, failed: [] })).toBe(1);
  });

  it('tells usage, environment and harness failures apart', () => {
    expect(errorExitCode(new ValidationError('bad', [{ path: 'concurrency', message: 'bad' }]))).toBe(64);
    expect(errorExitCode(new ChaosEnvironmentError('no namespaces'))).toBe(69);
    expect(errorExitCode(new ChaosFaultError('kill-orders', 'not back'))).toBe(70);
    expect(errorExitCode(new Error('boom'))).toBe(70);
  });
});
