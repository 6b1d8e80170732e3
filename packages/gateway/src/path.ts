/**
 * Request path checks, done before routing. The gateway forwards the path as received, so
 * anything an upstream (or a proxy behind it) might normalise into another path is refused:
 * dot segments, their percent-encoded forms (also double-encoded), encoded slashes and
 * backslashes, NUL and raw backslashes. Refusing is safer than normalising: no two layers can
 * disagree about which path was meant.
 */

// `/./`, `/../`, trailing `/.` or `/..`, `%2e` `%2f` `%5c` `%00`, any `%25` (double encoding), `\`.
const DANGEROUS = /(?:^|\/)\.{1,2}(?:\/|$)|%2e|%2f|%5c|%00|%25|\\|\0/i;

/**
 * Splits `url` into path and query (`?…`, kept verbatim) and returns undefined when the path
 * must be refused. The fast path (no `.`, `%` or `\`) does no regex work.
 */
export function checkPath(url: string): { path: string; query: string } | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (path.charCodeAt(0) !== 47 /* / */) return undefined;
  if (path.includes('.') || path.includes('%') || path.includes('\\') || path.includes('\0')) {
    if (DANGEROUS.test(path)) return undefined;
  }
  return { path, query };
}
