/**
 * The audit policy and the `npm run audit` command, on recorded `npm audit --json` reports
 * (the shapes npm 10 prints: a report with advisories, a clean one, and the error npm prints
 * when the audit endpoint refuses). The command runs as a real child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { advisoriesOf, allowlistProblems, auditArgs, auditFailure, evaluate } from './audit-policy.mjs';

const advisory = (id, name, severity, title = `${severity} problem in ${name}`) => ({
  source: 1100000 + id.length,
  name,
  dependency: name,
  title,
  url: `https://github.com/advisories/${id}`,
  severity,
  cwe: ['CWE-400'],
  cvss: { score: 7.5, vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' },
  range: '<2.0.0',
});

/** A report as `npm audit --json` prints it: one high, one critical (transitive), one moderate. */
const report = {
  auditReportVersion: 2,
  vulnerabilities: {
    'left-pad': {
      name: 'left-pad',
      severity: 'high',
      isDirect: false,
      via: [advisory('GHSA-aaaa-bbbb-cccc', 'left-pad', 'high')],
      effects: ['pad-all'],
      range: '<2.0.0',
      nodes: ['node_modules/left-pad'],
      fixAvailable: true,
    },
    'pad-all': {
      name: 'pad-all',
      severity: 'critical',
      isDirect: true,
      via: ['left-pad', advisory('GHSA-2222-3333-4444', 'pad-all', 'critical')],
      effects: [],
      range: '*',
      nodes: ['node_modules/pad-all'],
      fixAvailable: false,
    },
    chalky: {
      name: 'chalky',
      severity: 'moderate',
      isDirect: true,
      via: [advisory('GHSA-mmmm-pppp-qqqq', 'chalky', 'moderate')],
      effects: [],
      range: '<1.1.0',
      nodes: ['node_modules/chalky'],
      fixAvailable: true,
    },
  },
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 1, high: 1, critical: 1, total: 3 } },
};
const clean = {
  auditReportVersion: 2,
  vulnerabilities: {},
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 } },
};
/** What npm 10 prints when the registry refuses the bulk advisory endpoint. */
const refused = {
  message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
};

const excuse = (id, pkg, expires = '2099-01-01') => ({
  id,
  package: pkg,
  reason: 'only reachable through a code path Trellis never calls (tested)',
  expires,
});

describe('the audit policy', () => {
  it('audits the production dependencies of the shipped workspaces (all of them with --all)', () => {
    expect(auditArgs()).toEqual([
      'audit',
      '--omit=dev',
      '--json',
      '--workspace',
      'packages',
      '--workspace',
      'apps',
    ]);
    expect(auditArgs(true)).toEqual(['audit', '--omit=dev', '--json']);
  });

  it('lists each advisory once, with its GHSA id, skipping pointers to other packages', () => {
    const found = advisoriesOf(report);
    expect(found.map((a) => `${a.id} ${a.package} ${a.severity}`)).toEqual([
      'GHSA-2222-3333-4444 pad-all critical',
      'GHSA-aaaa-bbbb-cccc left-pad high',
      'GHSA-mmmm-pppp-qqqq chalky moderate',
    ]);
  });

  it('fails on high and critical, not on moderate', () => {
    const r = evaluate(advisoriesOf(report), [], '2026-11-25');
    expect(r.ok).toBe(false);
    expect(r.blocking.map((a) => a.id)).toEqual(['GHSA-2222-3333-4444', 'GHSA-aaaa-bbbb-cccc']);
    expect(r.below.map((a) => a.id)).toEqual(['GHSA-mmmm-pppp-qqqq']);
  });

  it('passes when every failing advisory is excused by a live entry for that package', () => {
    const list = [excuse('GHSA-2222-3333-4444', 'pad-all'), excuse('ghsa-aaaa-bbbb-cccc', 'left-pad')];
    const r = evaluate(advisoriesOf(report), list, '2026-11-25');
    expect(r.ok).toBe(true);
    expect(r.excused).toHaveLength(2);
  });

  it('does not excuse an advisory for another package, or after the expiry date', () => {
    const otherPackage = evaluate(
      advisoriesOf(report),
      [excuse('GHSA-aaaa-bbbb-cccc', 'pad-all')],
      '2026-11-25',
    );
    expect(otherPackage.blocking.map((a) => a.id)).toContain('GHSA-aaaa-bbbb-cccc');
    const list = [
      excuse('GHSA-2222-3333-4444', 'pad-all', '2026-11-24'),
      excuse('GHSA-aaaa-bbbb-cccc', 'left-pad'),
    ];
    const r = evaluate(advisoriesOf(report), list, '2026-11-25');
    expect(r.ok).toBe(false);
    expect(r.expired.map((e) => e.id)).toEqual(['GHSA-2222-3333-4444']);
    // The expiry day itself still counts.
    expect(evaluate(advisoriesOf(report), list, '2026-11-24').expired).toEqual([]);
  });

  it('reports entries that match nothing any more as stale', () => {
    const r = evaluate(advisoriesOf(clean), [excuse('GHSA-2222-3333-4444', 'pad-all')], '2026-11-25');
    expect(r.ok).toBe(true);
    expect(r.stale.map((e) => e.id)).toEqual(['GHSA-2222-3333-4444']);
  });

  it('refuses allowlist entries without a reason, a package or a real date', () => {
    expect(allowlistProblems({ advisories: [excuse('GHSA-2222-3333-4444', 'pad-all')] })).toEqual([]);
    expect(allowlistProblems({})).toEqual(['the allowlist must be an object with an "advisories" array']);
    const problems = allowlistProblems({
      advisories: [{ id: 'GHSA-2222-3333-4444', package: '', reason: 'meh', expires: 'soon' }],
    });
    expect(problems).toEqual([
      'advisories[0].package is required (a non-empty string)',
      'advisories[0].expires must be a date, YYYY-MM-DD (got "soon")',
      'advisories[0].reason must say why (at least 20 characters)',
    ]);
  });

  it('recognises a report npm could not produce', () => {
    expect(auditFailure(refused)).toContain('405 Method Not Allowed');
    expect(auditFailure(undefined)).toBe('npm audit printed no JSON report');
    expect(auditFailure({ auditReportVersion: 2 })).toContain('no "vulnerabilities"');
    expect(auditFailure(report)).toBeUndefined();
    expect(auditFailure(clean)).toBeUndefined();
  });
});

describe('npm run audit (scripts/audit.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = fileURLToPath(new URL('./audit.mjs', import.meta.url));
  const file = (name, value) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const run = (reportValue, allowlist, env = {}) => {
    const args = [script, '--report', file('report.json', reportValue), '--today', '2026-11-25'];
    if (allowlist) args.push('--allowlist', file('allow.json', allowlist));
    return spawnSync(process.execPath, args, {
      encoding: 'utf8',
      env: { ...process.env, CI: '', AUDIT_REQUIRED: '', ...env },
    });
  };

  it('exits 0 on a clean report', () => {
    const r = run(clean, { advisories: [] });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('no unexcused high or critical advisory');
  });

  it('exits 1 naming each blocking advisory', () => {
    const r = run(report, { advisories: [] });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('GHSA-aaaa-bbbb-cccc');
    expect(r.stderr).toContain('GHSA-2222-3333-4444');
    expect(r.stderr).not.toContain('GHSA-mmmm-pppp-qqqq');
  });

  it('exits 0 when the allowlist excuses them, and 1 once an entry has expired', () => {
    const list = [excuse('GHSA-2222-3333-4444', 'pad-all'), excuse('GHSA-aaaa-bbbb-cccc', 'left-pad')];
    expect(run(report, { advisories: list }).status).toBe(0);
    list[0].expires = '2026-01-01';
    const r = run(report, { advisories: list });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('expired on 2026-01-01');
  });

  it('exits 1 on a malformed allowlist before auditing', () => {
    const r = run(clean, { advisories: [{ id: 'GHSA-2222-3333-4444' }] });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('advisories[0].reason is required');
  });

  it('fails with a clear message under AUDIT_REQUIRED=1 when npm could not audit, and only warns without it', () => {
    const required = run(refused, undefined, { AUDIT_REQUIRED: '1', CI: 'true' });
    expect(required.status).toBe(2);
    expect(required.stderr).toContain('could not audit the dependencies: 405 Method Not Allowed');
    expect(required.stderr).toContain('AUDIT_REQUIRED=1, so this fails the build');
    const warned = run(refused, undefined, { CI: 'true' });
    expect(warned.status).toBe(0);
    expect(warned.stderr).toContain('NOT AUDITED');
  });

  it('reads the checked-in allowlist by default, and it is well formed', () => {
    const r = spawnSync(process.execPath, [script, '--report', file('clean.json', clean)], {
      encoding: 'utf8',
      env: { ...process.env, CI: '' },
    });
    expect(r.status, r.stderr).toBe(0);
  });
});
