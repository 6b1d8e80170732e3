/**
 * What no answer of the shop may ever be: a 5xx, a stack trace, an internal file path, SQL or
 * database error text, an internal address, or an error body outside the one error shape.
 * Text the request itself carried is allowed back (a product named `SELECT` is just a name).
 */
import type { RawResponse } from './raw-http.js';

/** Patterns of internal detail that must not reach a client. */
export const LEAK_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['stack frame', /\bat (?:async )?[\w$.<>[\]]+ \((?:file:\/\/|\/|node:)[^)]*:\d+:\d+\)/],
  ['stack frame', /\n\s+at (?:file:\/\/|\/|node:)\S+:\d+:\d+/],
  ['source file', /\.(?:ts|js|mjs|cjs):\d+:\d+/],
  ['dependency path', /node_modules/],
  ['SQLite error', /SQLITE_[A-Z]+|SqliteError/],
  [
    'PostgreSQL error',
    /syntax error at or near|relation "[^"]+" does not exist|violates (?:unique|foreign key|check|not-null) constraint|invalid byte sequence for encoding|unsupported Unicode escape sequence/,
  ],
  ['SQL text', /\b(?:INSERT INTO|DELETE FROM|UPDATE \w+ SET|SELECT \* FROM|CREATE TABLE)\b/],
  ['Node error code', /\b(?:ECONNREFUSED|ECONNRESET|EADDRINUSE|ERR_[A-Z_]{4,})\b/],
  ['Fastify internal code', /\bFST_[A-Z_]+/],
];

/** Internal text specific to one running shop: its directory and service addresses. */
export function shopSpecificLeaks(
  dataDir: string,
  serviceUrls: readonly string[],
): Array<readonly [string, RegExp]> {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    ['data directory', new RegExp(esc(dataDir))],
    ['repository path', new RegExp(esc(process.cwd()))],
    ...serviceUrls.map((u) => ['internal address', new RegExp(esc(new URL(u).host))] as const),
  ];
}

/** Problems with one answer to a request whose text is `sent` (empty when fine). */
export function answerProblems(
  res: RawResponse,
  sent: string,
  extraLeaks: ReadonlyArray<readonly [string, RegExp]> = [],
  options: { jsonRpc?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  if (res.status < 200 || (res.status >= 300 && res.status < 400))
    problems.push(`unexpected status ${res.status}`);
  for (const [what, pattern] of [...LEAK_PATTERNS, ...extraLeaks]) {
    const m = pattern.exec(res.text);
    if (m && !sent.includes(m[0])) problems.push(`${what} in the answer: ${JSON.stringify(m[0])}`);
  }
  if (res.status >= 400 && !options.jsonRpc) {
    const error = (res.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string')
      problems.push(`error outside the { error: { code, message } } shape: ${res.text.slice(0, 200)}`);
  }
  return problems;
}
