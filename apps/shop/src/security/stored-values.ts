/**
 * Finds where texts are stored, read straight from the databases: a text counts as stored in
 * a table when some column, or some string inside a JSON column or JSON text (event payloads,
 * saga state), equals it exactly. That is the "round-trips byte for byte" check of the
 * injection test: a payload an accepted request carried must come back out of storage as the
 * very same string, not escaped, truncated, normalised or half-executed.
 */
import type { SqlDatabase } from '@trellis/core';

/** `<database>.<table>` names (as in a state snapshot) to search. */
export type TableNames = readonly string[];

function* stringsOf(value: unknown, depth = 0): Generator<string> {
  if (depth > 64) return;
  if (typeof value === 'string') {
    yield value;
    const t = value.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        yield* stringsOf(JSON.parse(value), depth + 1);
      } catch {
        // not JSON: the text itself was yielded
      }
    }
  } else if (Buffer.isBuffer(value)) {
    yield* stringsOf(value.toString('utf8'), depth + 1);
  } else if (Array.isArray(value)) {
    for (const v of value) yield* stringsOf(v, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* stringsOf(v, depth + 1);
    }
  }
}

/**
 * For each of `texts`, the tables among `tables` holding it exactly (an empty list when none).
 *
 * Throws when a table cannot be read.
 */
export async function whereStored(
  dbs: Readonly<Record<string, SqlDatabase>>,
  tables: TableNames,
  texts: readonly string[],
): Promise<Map<string, string[]>> {
  const wanted = new Set(texts);
  const found = new Map<string, string[]>(texts.map((t) => [t, []]));
  for (const name of tables) {
    const dot = name.indexOf('.');
    const db = dbs[name.slice(0, dot)];
    if (!db) continue;
    const table = name.slice(dot + 1);
    const rows = await db.query<Record<string, unknown>>(`SELECT * FROM "${table.replace(/"/g, '""')}"`);
    const here = new Set<string>();
    for (const row of rows) for (const s of stringsOf(row)) if (wanted.has(s)) here.add(s);
    for (const s of here) found.get(s)?.push(name);
  }
  return found;
}
