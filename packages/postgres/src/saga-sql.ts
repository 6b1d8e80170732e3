/**
 * SQL of the PostgreSQL saga store. Writes take their rows as one JSON array parameter, so a
 * batch of any size is one statement with one plan; `jsonb_array_elements … WITH ORDINALITY`
 * keeps each instance's timeline entries in order.
 */
import type { NewSagaEvent, SagaCheckpoint, SagaEvent, SagaInstance } from '@trellis/saga';

/**
 * `fillfactor = 80` leaves room in each page so that a checkpoint (which changes no indexed
 * column: leases are renewed separately) is a HOT update, with no index writes at all.
 */
export const SAGA_SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_sagas (
  id text PRIMARY KEY,
  name text NOT NULL,
  status text NOT NULL,
  step integer NOT NULL,
  context jsonb NOT NULL,
  input jsonb NOT NULL,
  error jsonb,
  resume_status text,
  trace jsonb NOT NULL,
  owner text,
  worker text,
  lease_until bigint NOT NULL,
  version integer NOT NULL,
  recoveries integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX IF NOT EXISTS trellis_sagas_active ON trellis_sagas (lease_until)
  WHERE status IN ('running', 'compensating');
CREATE INDEX IF NOT EXISTS trellis_sagas_status ON trellis_sagas (status, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS trellis_saga_events (
  seq bigserial PRIMARY KEY,
  saga_id text NOT NULL,
  at bigint NOT NULL,
  kind text NOT NULL,
  step text,
  attempt integer,
  duration_ms double precision,
  error jsonb,
  note text
);
CREATE INDEX IF NOT EXISTS trellis_saga_events_saga ON trellis_saga_events (saga_id, seq);
`;

const EVENT_COLUMNS = `(saga_id, at, kind, step, attempt, duration_ms, error, note)`;
const EVENT_VALUES = `(e.v->>'at')::bigint, e.v->>'kind', e.v->>'step', (e.v->>'attempt')::int,
  (e.v->>'durationMs')::float8, NULLIF(e.v->'error', 'null'::jsonb), e.v->>'note'`;

/** Inserts instances that do not exist yet ($1: JSON array of instances with their events). */
export const CREATE_SQL = `
WITH input AS (
  SELECT i.v, i.ord FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS i(v, ord)
), ins AS (
  INSERT INTO trellis_sagas (id, name, status, step, context, input, error, resume_status, trace, owner, worker,
    lease_until, version, recoveries, created_at, updated_at)
  SELECT v->>'id', v->>'name', v->>'status', (v->>'step')::int, v->'context', v->'input', NULLIF(v->'error', 'null'::jsonb),
    v->>'resumeStatus', v->'trace', v->>'owner', v->>'worker', (v->>'leaseUntil')::bigint, (v->>'version')::int,
    (v->>'recoveries')::int, (v->>'createdAt')::bigint, (v->>'updatedAt')::bigint
  FROM input ORDER BY ord
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), ev AS (
  INSERT INTO trellis_saga_events ${EVENT_COLUMNS}
  SELECT ins.id, ${EVENT_VALUES}
  FROM input JOIN ins ON ins.id = input.v->>'id', jsonb_array_elements(input.v->'events') WITH ORDINALITY AS e(v, ord)
  ORDER BY input.ord, e.ord
)
SELECT id FROM ins`;

/** Applies fenced checkpoints ($1: JSON array); returns the ids that were applied. */
export const CHECKPOINT_SQL = `
WITH input AS (
  SELECT c.v, c.ord FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS c(v, ord)
), upd AS (
  UPDATE trellis_sagas s SET status = v->>'status', step = (v->>'step')::int,
    context = COALESCE(v->'context', s.context), error = NULLIF(v->'error', 'null'::jsonb),
    resume_status = v->>'resumeStatus', recoveries = (v->>'recoveries')::int,
    lease_until = COALESCE((v->>'leaseUntil')::bigint, s.lease_until), updated_at = (v->>'updatedAt')::bigint,
    version = s.version + 1
  FROM input WHERE s.id = v->>'id' AND s.version = (v->>'expectedVersion')::int
  RETURNING s.id
), ev AS (
  INSERT INTO trellis_saga_events ${EVENT_COLUMNS}
  SELECT upd.id, ${EVENT_VALUES}
  FROM input JOIN upd ON upd.id = input.v->>'id', jsonb_array_elements(input.v->'events') WITH ORDINALITY AS e(v, ord)
  ORDER BY input.ord, e.ord
)
SELECT id FROM upd`;

/** Takes over expired instances; `SKIP LOCKED` keeps concurrent claimers apart. */
export const CLAIM_SQL = `
WITH picked AS (
  SELECT id FROM trellis_sagas
  WHERE status IN ('running', 'compensating') AND name = ANY($5::text[])
    AND (lease_until <= $4 OR (worker = $2 AND owner <> $1))
  ORDER BY lease_until LIMIT $6
  FOR UPDATE SKIP LOCKED
)
UPDATE trellis_sagas s SET owner = $1, worker = $2, lease_until = $3, version = s.version + 1,
  recoveries = s.recoveries + 1, updated_at = $4
FROM picked WHERE s.id = picked.id
RETURNING s.*`;

/** Operator resume of a failed instance ($5: JSON array of timeline entries). */
export const REOPEN_SQL = `
WITH upd AS (
  UPDATE trellis_sagas SET status = resume_status, resume_status = NULL, owner = $2, worker = $3,
    lease_until = $4, recoveries = 0, version = version + 1, updated_at = $6
  WHERE id = $1 AND status = 'failed' AND resume_status IS NOT NULL
  RETURNING *
), ev AS (
  INSERT INTO trellis_saga_events ${EVENT_COLUMNS}
  SELECT upd.id, ${EVENT_VALUES}
  FROM upd, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(v, ord)
  ORDER BY e.ord
)
SELECT * FROM upd`;

/** A `trellis_sagas` row as pg returns it (jsonb parsed, bigint parsed by the backend). */
export interface PgSagaRow {
  id: string;
  name: string;
  status: SagaInstance['status'];
  step: number;
  context: Record<string, unknown>;
  input: Record<string, unknown>;
  error: SagaInstance['error'];
  resume_status: SagaInstance['resumeStatus'];
  trace: SagaInstance['trace'];
  owner: string | null;
  worker: string | null;
  lease_until: number;
  version: number;
  recoveries: number;
  created_at: number;
  updated_at: number;
}

/** A `trellis_saga_events` row. */
export interface PgSagaEventRow {
  seq: number;
  saga_id: string;
  at: number;
  kind: SagaEvent['kind'];
  step: string | null;
  attempt: number | null;
  duration_ms: number | null;
  error: SagaEvent['error'];
  note: string | null;
}

/** Row → instance. */
export function toInstance(r: PgSagaRow): SagaInstance {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    step: r.step,
    context: r.context,
    input: r.input,
    error: r.error,
    resumeStatus: r.resume_status,
    trace: r.trace,
    owner: r.owner,
    worker: r.worker,
    leaseUntil: r.lease_until,
    version: r.version,
    recoveries: r.recoveries,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Row → timeline entry. */
export function toEvent(r: PgSagaEventRow): SagaEvent {
  const { seq, saga_id: sagaId, at, kind, step, attempt, duration_ms: durationMs, error, note } = r;
  return { seq, sagaId, at, kind, step, attempt, durationMs, error, note };
}

/** Times are whole milliseconds in the database. */
export function roundTimes<T extends NewSagaEvent | SagaCheckpoint | SagaInstance>(value: T): T {
  const out: Record<string, unknown> = { ...value };
  for (const k of ['at', 'leaseUntil', 'updatedAt', 'createdAt']) {
    if (typeof out[k] === 'number') out[k] = Math.round(out[k] as number);
  }
  return out as T;
}
