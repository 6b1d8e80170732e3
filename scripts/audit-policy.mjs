/**
 * The npm audit policy of this repository, as pure functions over `npm audit --json` output
 * (report format 2, npm 7 and later): which advisories fail the build, which are excused by
 * the checked-in allowlist (`.ci/audit-allowlist.json`, each entry with a reason and an expiry
 * date), and which allowlist entries no longer match anything. `scripts/audit.mjs` runs npm
 * and applies it; the tests feed it recorded reports.
 */

/**
 * What `npm audit` is asked: the production dependencies (`--omit=dev`) of the workspaces
 * Trellis ships — the libraries (`packages/*`) and the applications (`apps/*`: the shop, the
 * console, the chaos harness). `bench/` and `anchors/*` are benchmark tooling (competitors
 * installed only to be measured against), audited like dev dependencies: not at all here.
 * `--all` audits every workspace instead.
 */
export function auditArgs(all = false) {
  return [
    'audit',
    '--omit=dev',
    '--json',
    ...(all ? [] : ['--workspace', 'packages', '--workspace', 'apps']),
  ];
}

/** Severities that fail the build. */
export const FAILING_SEVERITIES = ['high', 'critical'];

/**
 * @typedef {object} Advisory
 * @property {string} id        GHSA id (from the advisory URL) or npm's numeric source id
 * @property {string} package   the vulnerable package
 * @property {string} severity
 * @property {string} title
 * @property {string} url
 * @property {string} range     affected versions
 */

/**
 * @typedef {object} AllowlistEntry
 * @property {string} id       the advisory's GHSA id (e.g. `GHSA-xxxx-xxxx-xxxx`)
 * @property {string} package  the package it was excused for
 * @property {string} reason   why it does not affect Trellis (or what mitigates it)
 * @property {string} expires  `YYYY-MM-DD`; after this day the entry no longer excuses anything
 */

/**
 * The report's error, when npm could not audit (registry unreachable, endpoint refused):
 * a string describing it, or undefined for a real report.
 *
 * @param {unknown} report parsed `npm audit --json` output
 * @returns {string | undefined}
 */
export function auditFailure(report) {
  if (typeof report !== 'object' || report === null) return 'npm audit printed no JSON report';
  const r = /** @type {Record<string, unknown>} */ (report);
  if (r.error || (r.message && !r.vulnerabilities)) {
    const e = /** @type {{ summary?: string, detail?: string, code?: string } | undefined} */ (r.error);
    return [r.message, e?.code, e?.summary, e?.detail].filter(Boolean).join(' — ') || 'npm audit failed';
  }
  if (typeof r.vulnerabilities !== 'object' || r.vulnerabilities === null)
    return 'npm audit report has no "vulnerabilities" (an unsupported npm version?)';
  return undefined;
}

/**
 * Every advisory in a report, one per (advisory, package): `via` entries that are objects are
 * advisories; strings only point at another vulnerable package (already listed on its own).
 *
 * @param {{ vulnerabilities: Record<string, { via?: unknown[] }> }} report
 * @returns {Advisory[]}
 */
export function advisoriesOf(report) {
  const out = new Map();
  for (const [name, vuln] of Object.entries(report.vulnerabilities)) {
    for (const via of vuln.via ?? []) {
      if (typeof via !== 'object' || via === null) continue;
      const v = /** @type {Record<string, unknown>} */ (via);
      const url = String(v.url ?? '');
      const ghsa = /GHSA(-[0-9a-z]{4}){3}/i.exec(url)?.[0];
      const id = ghsa ? `GHSA${ghsa.slice(4).toLowerCase()}` : String(v.source ?? url);
      const pkg = String(v.name ?? v.dependency ?? name);
      out.set(`${id} ${pkg}`, {
        id,
        package: pkg,
        severity: String(v.severity ?? 'unknown'),
        title: String(v.title ?? ''),
        url,
        range: String(v.range ?? ''),
      });
    }
  }
  return [...out.values()].sort((a, b) => a.id.localeCompare(b.id) || a.package.localeCompare(b.package));
}

/**
 * Checks the allowlist's shape: every entry needs an id, a package, a reason and a valid
 * expiry date. Returns the problems (empty when it is fine).
 *
 * @param {unknown} list parsed `.ci/audit-allowlist.json`
 * @returns {string[]}
 */
export function allowlistProblems(list) {
  const problems = [];
  const entries = /** @type {{ advisories?: unknown } | undefined} */ (list)?.advisories;
  if (!Array.isArray(entries)) return ['the allowlist must be an object with an "advisories" array'];
  entries.forEach((e, i) => {
    const entry = /** @type {Record<string, unknown>} */ (e ?? {});
    for (const field of ['id', 'package', 'reason', 'expires']) {
      if (typeof entry[field] !== 'string' || String(entry[field]).trim() === '')
        problems.push(`advisories[${i}].${field} is required (a non-empty string)`);
    }
    if (typeof entry.expires === 'string' && !isDate(entry.expires))
      problems.push(`advisories[${i}].expires must be a date, YYYY-MM-DD (got "${entry.expires}")`);
    if (typeof entry.reason === 'string' && entry.reason.trim().length < 20)
      problems.push(`advisories[${i}].reason must say why (at least 20 characters)`);
  });
  return problems;
}

/** @param {string} s */
function isDate(s) {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
}

/**
 * Applies the policy: advisories of failing severity not excused by a live allowlist entry
 * fail the build; expired entries excuse nothing (and are reported); entries matching no
 * advisory of the report are reported as stale (they should be removed).
 *
 * @param {Advisory[]} advisories
 * @param {AllowlistEntry[]} allowlist
 * @param {string} today `YYYY-MM-DD` (UTC)
 */
export function evaluate(advisories, allowlist, today) {
  const failing = advisories.filter((a) => FAILING_SEVERITIES.includes(a.severity));
  const live = allowlist.filter((e) => e.expires >= today);
  const expired = allowlist.filter((e) => e.expires < today);
  const matches = (e, a) => e.id.toUpperCase() === a.id.toUpperCase() && e.package === a.package;
  const excused = failing.filter((a) => live.some((e) => matches(e, a)));
  const blocking = failing.filter((a) => !live.some((e) => matches(e, a)));
  const stale = live.filter((e) => !advisories.some((a) => matches(e, a)));
  const below = advisories.filter((a) => !FAILING_SEVERITIES.includes(a.severity));
  return { ok: blocking.length === 0, blocking, excused, expired, stale, below };
}
