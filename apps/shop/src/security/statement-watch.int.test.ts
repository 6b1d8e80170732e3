/**
 * The statement watcher sees what PostgreSQL runs: a statement whose text holds a marker is
 * reported (from any database of the server), and a parameterised statement whose *value*
 * holds the marker is not — which is exactly why a clean watch proves no payload became SQL.
 */
import { PostgresDatabase } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchStatements } from './statement-watch.js';

const postgres = serverUrl('postgres');

describe.skipIf(!postgres)('watchStatements', () => {
  let db: PostgresDatabase;
  beforeAll(async () => {
    db = PostgresDatabase.connect(await createTestDatabase('statement_watch'), { max: 2 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('reports a statement built with the marker in its text, not one given it as a value', async () => {
    const watch = await watchStatements(postgres as string, [/trellis_watch_marker/]);
    await db.query('SELECT $1::text AS v, pg_sleep(0.3)', ['trellis_watch_marker as a value']);
    await db.query("SELECT 'trellis_watch_marker' AS v, pg_sleep(0.3)");
    const { seen, samples } = await watch.stop();
    expect(samples).toBeGreaterThan(1);
    expect(seen.map((s) => s.query)).toEqual(["SELECT 'trellis_watch_marker' AS v, pg_sleep(0.3)"]);
  });
});
