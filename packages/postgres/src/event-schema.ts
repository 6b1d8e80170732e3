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
-- checked on its own, in order: a failed check returns ok = false and writes nothing for
-- that append. Set-based: one lookup of every stream's version, one INSERT for all events,
-- whatever the batch size (per-append statements made big group commits CPU-bound).
CREATE OR REPLACE FUNCTION trellis_append_events(p_batch jsonb, p_notify boolean DEFAULT true)
RETURNS TABLE (idx integer, ok boolean, actual_version bigint, first_position bigint)
LANGUAGE plpgsql
-- Its statements take the batch as a parameter; custom plans re-planned the INSERT on every
-- call (measured: 130 µs per call, 54 µs with generic plans).
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
  v_head bigint;
  v_streams text[];
  v_versions bigint[];
  v_append jsonb;
  v_k integer;
  v_current bigint;
  v_expected bigint;
  v_count integer;
  v_i integer := 0;
  v_acc_idx integer[] := '{}';
  v_acc_version bigint[] := '{}';
  v_acc_position bigint[] := '{}';
BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK_KEY}::bigint);
  -- New statements, so new snapshots: they see every append that committed before ours got the lock.
  IF jsonb_array_length(p_batch) = 1 THEN
    -- One append (every sequential writer): scalar lookups and a plain INSERT, half the work.
    v_append := p_batch->0;
    SELECT coalesce(max(ev.position), 0) INTO v_head FROM trellis_events ev;
    SELECT coalesce(max(ev.version), 0) INTO v_current FROM trellis_events ev WHERE ev.stream_id = v_append->>'s';
    v_expected := (v_append->>'x')::bigint;
    idx := 0;
    actual_version := v_current;
    IF (v_expected >= 0 AND v_current <> v_expected)
       OR (v_expected = -2 AND v_current <> 0)
       OR (v_expected = -3 AND v_current = 0) THEN
      ok := false;
      first_position := NULL;
      RETURN NEXT;
      RETURN;
    END IF;
    ok := true;
    first_position := v_head + 1;
    RETURN NEXT;
    IF jsonb_array_length(v_append->'e') > 0 THEN
      INSERT INTO trellis_events (position, stream_id, version, id, aggregate_type, event_type,
                                  schema_version, payload, metadata, created_at)
      SELECT v_head + x.n, v_append->>'s', v_current + x.n, x.ev->>'i', v_append->>'t', x.ev->>'y',
             (x.ev->>'v')::integer, x.ev->'p', x.ev->'m', (x.ev->>'at')::timestamptz
      FROM jsonb_array_elements(v_append->'e') WITH ORDINALITY AS x(ev, n);
      IF p_notify THEN
        PERFORM pg_notify('${EVENTS_CHANNEL}', (v_head + jsonb_array_length(v_append->'e'))::text);
      END IF;
    END IF;
    RETURN;
  END IF;
  SELECT coalesce((SELECT max(ev.position) FROM trellis_events ev), 0),
         coalesce(array_agg(s.stream), '{}'),
         coalesce(array_agg(coalesce((SELECT max(ev.version) FROM trellis_events ev WHERE ev.stream_id = s.stream), 0)), '{}')
    INTO v_head, v_streams, v_versions
    FROM (SELECT DISTINCT a.value->>'s' AS stream FROM jsonb_array_elements(p_batch) AS a) AS s;
  FOR v_append IN SELECT a.value FROM jsonb_array_elements(p_batch) AS a LOOP
    v_k := array_position(v_streams, v_append->>'s');
    v_current := v_versions[v_k];
    v_expected := (v_append->>'x')::bigint;
    v_count := jsonb_array_length(v_append->'e');
    idx := v_i;
    actual_version := v_current;
    IF (v_expected >= 0 AND v_current <> v_expected)
       OR (v_expected = -2 AND v_current <> 0)
       OR (v_expected = -3 AND v_current = 0) THEN
      ok := false;
      first_position := NULL;
    ELSE
      IF v_count > 0 THEN
        v_acc_idx := v_acc_idx || (v_i + 1);
        v_acc_version := v_acc_version || v_current;
        v_acc_position := v_acc_position || v_head;
        v_versions[v_k] := v_current + v_count;
      END IF;
      ok := true;
      first_position := v_head + 1;
      v_head := v_head + v_count;
    END IF;
    RETURN NEXT;
    v_i := v_i + 1;
  END LOOP;
  IF cardinality(v_acc_idx) > 0 THEN
    INSERT INTO trellis_events (position, stream_id, version, id, aggregate_type, event_type,
                                schema_version, payload, metadata, created_at)
    SELECT acc.base_position + x.n, a.value->>'s', acc.base_version + x.n, x.ev->>'i', a.value->>'t',
           x.ev->>'y', (x.ev->>'v')::integer, x.ev->'p', x.ev->'m', (x.ev->>'at')::timestamptz
    FROM unnest(v_acc_idx, v_acc_version, v_acc_position) AS acc(ord, base_version, base_position)
    JOIN jsonb_array_elements(p_batch) WITH ORDINALITY AS a(value, ord) ON a.ord = acc.ord
    CROSS JOIN LATERAL jsonb_array_elements(a.value->'e') WITH ORDINALITY AS x(ev, n);
    IF p_notify THEN
      PERFORM pg_notify('${EVENTS_CHANNEL}', v_head::text);
    END IF;
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
