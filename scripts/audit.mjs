#!/usr/bin/env node
/**
 * `npm run audit`: audits the production dependencies of the shipped workspaces (`npm audit
 * --omit=dev -w packages -w apps`; `--all` for every workspace) and fails on a
 * high or critical advisory unless `.ci/audit-allowlist.json` excuses it with a reason and an
 * expiry date that has not passed. See SECURITY.md ("Dependency audit").
 *
 * Exit codes: 0 clean (or every finding excused); 1 a blocking advisory, or an expired or
 * malformed allowlist; 2 npm could not audit (registry or advisory endpoint unreachable) and
 * AUDIT_REQUIRED=1; without it that is a loud warning and exits 0 (offline work, and networks
 * whose proxy refuses the advisory endpoint's POST, as this project's CI network does). `--report <file>` reads a saved `npm audit --json` report instead of running npm
 * (tests, or auditing a report from another machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { advisoriesOf, allowlistProblems, auditArgs, auditFailure, evaluate } from './audit-policy.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const allowlistFile = flag('--allowlist') ?? join(root, '.ci', 'audit-allowlist.json');
const reportFile = flag('--report');
const today = flag('--today') ?? new Date().toISOString().slice(0, 10);
const required = process.env.AUDIT_REQUIRED === 'true' || process.env.AUDIT_REQUIRED === '1';

const say = (line = '') => process.stdout.write(`${line}\n`);
const fail = (line) => process.stderr.write(`audit: ${line}\n`);

function readJson(file, what) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read ${what} ${file}: ${error.message}`);
    process.exit(1);
  }
}

const allowlist = existsSync(allowlistFile) ? readJson(allowlistFile, 'allowlist') : { advisories: [] };
const problems = allowlistProblems(allowlist);
if (problems.length > 0) {
  for (const p of problems) fail(`${allowlistFile}: ${p}`);
  process.exit(1);
}

let report;
if (reportFile) {
  report = readJson(reportFile, 'report');
} else {
  // Exit status 1 only means "vulnerabilities found"; the JSON says what happened.
  const run = spawnSync('npm', auditArgs(args.includes('--all')), {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 180_000,
  });
  try {
    report = JSON.parse(run.stdout);
  } catch {
    report = { message: (run.stderr || run.error?.message || 'no output').trim().split('\n').at(-1) };
  }
}

const unreachable = auditFailure(report);
if (unreachable) {
  // The audit needs the registry's advisory endpoint (a POST). Some networks, this project's
  // own CI among them, reach the registry only through a proxy that allows GET: failing there
  // would block every build on the network, not on an advisory. So an audit that cannot run
  // is a loud warning, and fails only where the audit is required (AUDIT_REQUIRED=1).
  const message = `could not audit the dependencies: ${unreachable}`;
  if (required) {
    fail(`${message}\naudit: AUDIT_REQUIRED=1, so this fails the build: the audit must run`);
    process.exit(2);
  }
  fail(
    `${message}\naudit: NOT AUDITED — the advisory endpoint is out of reach from this network (set AUDIT_REQUIRED=1 to make this fail)`,
  );
  process.exit(0);
}

const result = evaluate(advisoriesOf(report), allowlist.advisories, today);
const line = (a) => `  ${a.severity.padEnd(8)} ${a.id}  ${a.package} ${a.range}  ${a.title}`;
const counts = report.metadata?.vulnerabilities;
say(
  `npm ${auditArgs(args.includes('--all')).join(' ')}: ${
    counts
      ? Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : 'no counts'
  }`,
);
if (result.below.length) {
  say('Below the failing level (reported, not blocking):');
  for (const a of result.below) say(line(a));
}
if (result.excused.length) {
  say('Excused by .ci/audit-allowlist.json:');
  for (const a of result.excused) say(line(a));
}
for (const e of result.stale)
  say(`audit: allowlist entry ${e.id} (${e.package}) matches nothing now; remove it`);
for (const e of result.expired) fail(`allowlist entry ${e.id} (${e.package}) expired on ${e.expires}`);
if (!result.ok) {
  fail('high or critical advisories in production dependencies:');
  for (const a of result.blocking) fail(line(a).trimStart());
  fail(
    'fix them (npm audit fix, or upgrade), or excuse each in .ci/audit-allowlist.json with a reason and an expiry',
  );
}
if (!result.ok || result.expired.length) process.exit(1);
say('audit: no unexcused high or critical advisory');
