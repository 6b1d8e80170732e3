/**
 * SQL injection payloads, for PostgreSQL and SQLite alike: classic tautologies, stacked
 * queries, comment tricks, placeholder tricks, UNION SELECT, PostgreSQL's `pg_sleep`, casts,
 * `E''` strings and dollar quoting, backslashes, LIKE wildcards, Unicode quote look-alikes, and
 * NUL (which the services refuse before any SQL runs).
 *
 * Every payload that would run a statement of its own, if it ever reached SQL text, is built
 * to be loud rather than timed: it drops or creates a table (the state snapshot sees it),
 * writes a marker file through `COPY … TO PROGRAM` or `ATTACH` (the test looks for the file),
 * or sleeps for an hour (the request would time out, and the statement watcher would catch it
 * in `pg_stat_activity`, where a parameterised query shows `$1`, never the value). None has
 * surrounding whitespace, so zod's `.trim()` leaves it byte for byte as sent.
 */

/** A table the payloads try to create; its appearance anywhere proves an injection ran. */
export const MARKER_TABLE = 'trellis_pwned';
/** A file the payloads try to create on the database host. */
export const MARKER_FILE = '/tmp/trellis-sql-injection-pwned';

/** One payload and what it tries. */
export interface InjectionPayload {
  name: string;
  text: string;
}

const p = (name: string, text: string): InjectionPayload => ({ name, text });

/** The payloads, each placed into every string field, query and path parameter. */
export const INJECTION_PAYLOADS: readonly InjectionPayload[] = [
  p('tautology', "' OR '1'='1"),
  p('tautology, comment', "' OR 1=1 --"),
  p('tautology, double quotes', '" OR ""="'),
  p('numeric tautology', '1 OR 1=1'),
  p('closing paren', "') OR ('1'='1"),
  p('admin comment', "admin'--"),
  p('drop users', "'; DROP TABLE shop_users; --"),
  p('drop events', "x'); DROP TABLE trellis_events; --"),
  p('stacked delete', '1; DELETE FROM shop_products'),
  p('stacked create', `'; CREATE TABLE ${MARKER_TABLE} (x int); --`),
  p('stacked insert', "x'); INSERT INTO shop_users (id, email) VALUES ('pwned', 'pwned@x'); --"),
  p('stacked update', "'; UPDATE shop_stock SET available = 0; --"),
  p('block comment', "ad/**/min'/**/OR/**/'1'='1"),
  p('open comment', "x' /*"),
  p('hash comment', "x' #"),
  p('placeholder $1', '$1'),
  p('placeholder $2 cast', '$2::text'),
  p('placeholder ?', '?'),
  p('placeholder ?1', '?1 OR ?2'),
  p('named placeholder', ':id @id $id'),
  p('dollar quoting', `$$; CREATE TABLE ${MARKER_TABLE} (); $$`),
  p('tagged dollar quoting', '$q$ OR 1=1 $q$'),
  p('union select', "' UNION SELECT password_hash, email FROM shop_users --"),
  p('union nulls', "') UNION ALL SELECT NULL,NULL,NULL,NULL--"),
  p('pg_sleep stacked', "'; SELECT pg_sleep(3600); --"),
  p('pg_sleep concatenated', "'||pg_sleep(3600)||'"),
  p('pg_sleep subquery', '1 AND (SELECT 1 FROM pg_sleep(3600)) IS NULL'),
  p('cast', "'::text"),
  p('cast current_user', "'||(SELECT current_user)::text||'"),
  p('cast error', "' AND 1=CAST((SELECT version()) AS int) --"),
  p('E string', "E'\\x27 OR 1=1 --"),
  p('E string octal', "E'\\047; DROP TABLE shop_products; --"),
  p('backslash quote', "\\' OR 1=1 --"),
  p('lone backslash', '\\'),
  p('double backslash', '\\\\'),
  p('backslash zero', '\\0'),
  p('copy to program', `'; COPY (SELECT 1) TO PROGRAM 'touch ${MARKER_FILE}'; --`),
  p('sqlite attach', `'; ATTACH DATABASE '${MARKER_FILE}' AS pwned; --`),
  p('sqlite master', "' UNION SELECT name, sql FROM sqlite_master --"),
  p('like wildcard', '%'),
  p('like underscore', '_'),
  p('like escape', "%' ESCAPE '"),
  p('unicode apostrophe', 'ʼ OR ʼ1ʼ=ʼ1'),
  p('fullwidth quote', '＇ OR ＇1＇=＇1'),
  p('json operators', "x' || '{\"a\":1}'::jsonb ->> 'a"),
];

/**
 * A cross-section of the payloads (every family once, SQLite's own tricks included), for the
 * second run against the embedded shop: the same code paths on another backend, at a third of
 * the cost.
 */
export const INJECTION_SAMPLE: readonly InjectionPayload[] = INJECTION_PAYLOADS.filter((x) =>
  [
    'tautology',
    'closing paren',
    'drop users',
    'stacked create',
    'stacked insert',
    'block comment',
    'placeholder $1',
    'placeholder ?',
    'named placeholder',
    'union select',
    'cast',
    'backslash quote',
    'sqlite attach',
    'sqlite master',
    'like wildcard',
    'unicode apostrophe',
  ].includes(x.name),
);

/** Payloads the services must refuse before any SQL: text no database stores. */
export const REFUSED_PAYLOADS: readonly InjectionPayload[] = [
  p('NUL truncation', "x'\u0000; DROP TABLE shop_users; --"),
];

/**
 * Text that would show in `pg_stat_activity.query` only if a payload became SQL text (the
 * shop's own statements never contain it).
 */
export const STATEMENT_MARKERS: readonly RegExp[] = [
  /pg_sleep/i,
  new RegExp(MARKER_TABLE, 'i'),
  /'1'\s*=\s*'1/,
  /\bOR\s+1\s*=\s*1\b/i,
  /DROP\s+TABLE/i,
  /UNION\s+(ALL\s+)?SELECT/i,
  /TO\s+PROGRAM/i,
];
