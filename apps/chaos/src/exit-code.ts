/**
 * The exit codes of `npm run chaos`, in one place so scripts and CI can rely on them: 0 only
 * when every experiment that ran passed with every invariant holding; 1 for any finding (an
 * invariant violated, an experiment failed or aborted, nothing ran at all); sysexits-style
 * codes when the harness could not judge the system (bad usage, a machine lacking what a
 * selected experiment needs, a harness fault).
 */
import { isValidationError } from '@trellis/core';
import { isChaosEnvironmentError } from './errors.js';
import type { ChaosReport } from './report.js';

/** Every exit code the command uses. */
export const EXIT_CODES = {
  /** Every experiment that ran passed and every invariant held. */
  ok: 0,
  /** An invariant was violated, an experiment failed or was aborted, or nothing ran. */
  findings: 1,
  /** A bad option or an unknown experiment name (nothing was started). */
  usage: 64,
  /** The machine cannot run a selected experiment (namespaces required, a server missing). */
  environment: 69,
  /** The harness itself failed (the shop did not start, an unexpected error). */
  internal: 70,
  /** Interrupted (SIGINT, SIGTERM): the shop and servers were stopped, no verdict. */
  interrupted: 130,
} as const;

/** The exit code for a finished run: 0 only for an ok report. */
export function reportExitCode(report: Pick<ChaosReport, 'ok' | 'violations' | 'failed'>): number {
  return report.ok && report.violations === 0 && report.failed.length === 0
    ? EXIT_CODES.ok
    : EXIT_CODES.findings;
}

/** The exit code for a run that threw instead of reporting. */
export function errorExitCode(error: unknown): number {
  if (isValidationError(error)) return EXIT_CODES.usage;
  if (isChaosEnvironmentError(error)) return EXIT_CODES.environment;
  return EXIT_CODES.internal;
}
