/**
 * Rewrites PostgreSQL-style `$1 … $n` placeholders into SQLite's anonymous `?`, returning
 * the order in which to bind the caller's parameters (a `$n` used twice is bound twice).
 * Quoted strings, quoted identifiers (double quotes or backticks), line comments and block
 * comments are left alone.
 */
export function rewritePlaceholders(sql: string): { sql: string; order: number[] } {
  let out = '';
  const order: number[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql[j] as string)) j++;
      order.push(Number(sql.slice(i + 1, j)) - 1);
      out += '?';
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return { sql: out, order };
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2; // escaped quote
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}
