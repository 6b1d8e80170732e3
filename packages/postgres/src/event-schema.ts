import type { DomainEvent } from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';

/** The channel appends notify on commit (payload: the new head position). */
export const EVENTS_CHANNEL = 'trellis_events';

/** A row of `trellis_events` as pg returns it (BIGINT parsed to number, jsonb to objects). */
export interface PgEventRow {
  position: number | string;
  stream_id: string;
  version: number | string;
  id: string;
  aggregate_type: string;
  event_type: string;
  schema_version: number;
  payload: unknown;
  metadata: Record<string, unknown>;
  created_at: Date;
}

/** Key of the transaction-scoped advisory lock every append takes (the ASCII of "trellis!"). */
export const APPEND_LOCK_KEY = '8390880572094378785';

/**
 * Why one lock: an append takes `pg_advisory_xact_lock(APPEND_LOCK_KEY)`, then reads the
 * current maximum position and writes the next ones, and holds the lock until it commits.
 * PostgreSQL makes a transaction visible *before* it releases its locks, so the next
 * appender reads the maximum only after the previous one is visible: positions are handed
 * out in commit order, and a reader that sees position p has already been able to see every
 * position below it. No gaps, no in-flight holes, no xid cursors (which pg_dump/restore
 * would invalidate), and no hot counter row (an advisory lock writes no WAL). The cost is
 * one appending transaction at a time per database, which group commit turns into batching.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_events (
  position bigint PRIMARY KEY,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  id text NOT NULL,
  aggregate_type text NOT NULL,
  event_type text NOT NULL,
  schema_version integer NOT NULL,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT trellis_events_stream_version UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS trellis_snapshots (
  stream_id text PRIMARY KEY,
  aggregate_type text NOT NULL,
  version bigint NOT NULL,
  schema_version integer NOT NULL,
  state jsonb NOT NULL,
  taken_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS trellis_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Appends a batch of appends (each: stream s, aggregate type t, expected version x where
-- -1 = any, -2 = no_stream, -3 = stream_exists, events e) in one statement. Each append is
-- checked on its own: a failed check returns ok = false and writes nothing for that append.
CREATE OR REPLACE FUNCTION trellis_append_events(p_batch jsonb, p_notify boolean DEFAULT true)
RETURNS TABLE (idx integer, ok boolean, actual_version bigint, first_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_head bigint;
  v_append jsonb;
  v_stream text;
  v_current bigint;
  v_expected bigint;
  v_count integer;
  v_i integer := 0;
  v_written boolean := false;
BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK_KEY}::bigint);
  -- A new statement, so a new snapshot: it sees every append that committed before ours got the lock.
  SELECT coalesce(max(ev.position), 0) INTO v_head FROM trellis_events ev;
  FOR v_append IN SELECT a.value FROM jsonb_array_elements(p_batch) AS a LOOP
    v_stream := v_append->>'s';
    v_expected := (v_append->>'x')::bigint;
    v_count := jsonb_array_length(v_append->'e');
    SELECT coalesce(max(ev.version), 0) INTO v_current FROM trellis_events ev WHERE ev.stream_id = v_stream;
    idx := v_i;
    actual_version := v_current;
    IF (v_expected >= 0 AND v_current <> v_expected)
       OR (v_expected = -2 AND v_current <> 0)
       OR (v_expected = -3 AND v_current = 0) THEN
      ok := false;
      first_position := NULL;
    ELSE
      IF v_count > 0 THEN
        INSERT INTO trellis_events (position, stream_id, version, id, aggregate_type, event_type,
                                    schema_version, payload, metadata, created_at)
        SELECT v_head + x.n, v_stream, v_current + x.n, x.ev->>'i', v_append->>'t', x.ev->>'y',
               (x.ev->>'v')::integer, x.ev->'p', x.ev->'m', (x.ev->>'at')::timestamptz
        FROM jsonb_array_elements(v_append->'e') WITH ORDINALITY AS x(ev, n);
        v_written := true;
      END IF;
      ok := true;
      first_position := v_head + 1;
      v_head := v_head + v_count;
    END IF;
    RETURN NEXT;
    v_i := v_i + 1;
  END LOOP;
  IF v_written AND p_notify THEN
    PERFORM pg_notify('${EVENTS_CHANNEL}', v_head::text);
  END IF;
END
$fn$;
`;

/**
 * Creates the event, snapshot and checkpoint tables and the append function if they
 * do not exist (idempotent; serialised by an advisory lock so concurrent start-ups are safe).
 */
export async function migrateEventTables(db: PostgresDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('trellis_eventstore_schema'))");
    await tx.execute(SCHEMA);
  });
}

/** Maps a stored row to a {@link DomainEvent}. */
export function eventFromPgRow(row: PgEventRow): DomainEvent {
  return {
    id: row.id,
    aggregateId: row.stream_id,
    aggregateType: row.aggregate_type,
    eventType: row.event_type,
    payload: row.payload,
    timestamp: row.created_at,
    version: Number(row.version),
    position: Number(row.position),
    schemaVersion: row.schema_version,
    metadata: row.metadata,
  };
}
