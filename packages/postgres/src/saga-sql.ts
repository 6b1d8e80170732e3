/**
 * SQL of the PostgreSQL saga store. Writes take their rows as one JSON array parameter, so a
 * batch of any size is one statement with one plan. The timeline entries of one write are one
 * `trellis_saga_events` row (a JSON array): a checkpoint is one HOT update plus one insert.
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
  entries jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS trellis_saga_events_saga ON trellis_saga_events (saga_id, seq);
`;

const INSTANCE_RECORD = `id text, name text, status text, step int, context jsonb, input jsonb, error jsonb,
  "resumeStatus" text, trace jsonb, owner text, worker text, "leaseUntil" bigint, version int, recoveries int,
  "createdAt" bigint, "updatedAt" bigint, events jsonb`;

/** Inserts instances that do not exist yet ($1: JSON array of instances, each with its `events`). */
export const CREATE_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(${INSTANCE_RECORD})
), ins AS (
  INSERT INTO trellis_sagas (id, name, status, step, context, input, error, resume_status, trace, owner, worker,
    lease_until, version, recoveries, created_at, updated_at)
  SELECT id, name, status, step, context, input, NULLIF(error, 'null'::jsonb), "resumeStatus", trace, owner, worker,
    "leaseUntil", version, recoveries, "createdAt", "updatedAt"
  FROM input
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), ev AS (
  INSERT INTO trellis_saga_events (saga_id, entries)
  SELECT ins.id, input.events FROM input JOIN ins USING (id)
  WHERE jsonb_array_length(input.events) > 0
)
SELECT id FROM ins`;

/** Applies fenced checkpoints ($1: JSON array); returns the ids that were applied. */
export const CHECKPOINT_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(id text, "expectedVersion" int, status text, step int,
    context jsonb, error jsonb, "resumeStatus" text, recoveries int, "leaseUntil" bigint, "updatedAt" bigint,
    events jsonb)
), upd AS (
  UPDATE trellis_sagas s SET status = c.status, step = c.step, context = COALESCE(c.context, s.context),
    error = NULLIF(c.error, 'null'::jsonb), resume_status = c."resumeStatus", recoveries = c.recoveries,
    lease_until = COALESCE(c."leaseUntil", s.lease_until), updated_at = c."updatedAt", version = s.version + 1
  FROM input c WHERE s.id = c.id AND s.version = c."expectedVersion"
  RETURNING s.id
), ev AS (
  INSERT INTO trellis_saga_events (saga_id, entries)
  SELECT upd.id, input.events FROM input JOIN upd USING (id)
  WHERE jsonb_array_length(input.events) > 0
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
  INSERT INTO trellis_saga_events (saga_id, entries) SELECT upd.id, $5::jsonb FROM upd
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

/** A `trellis_saga_events` row: the timeline entries one write appended. */
export interface PgSagaEventRow {
  seq: number;
  saga_id: string;
  entries: NewSagaEvent[];
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

/**
 * Rows → timeline. Entries written together share a row; each gets `seq` = row position ×
 * 1024 + its index, which keeps the store-wide order the contract promises.
 */
export function toEvents(rows: PgSagaEventRow[]): SagaEvent[] {
  return rows.flatMap((r) => r.entries.map((e, i) => ({ ...e, seq: r.seq * 1024 + i, sagaId: r.saga_id })));
}

/** Times are whole milliseconds in the database. */
export function roundTimes<T extends NewSagaEvent | SagaCheckpoint | SagaInstance>(value: T): T {
  const out: Record<string, unknown> = { ...value };
  for (const k of ['at', 'leaseUntil', 'updatedAt', 'createdAt']) {
    if (typeof out[k] === 'number') out[k] = Math.round(out[k] as number);
  }
  return out as T;
}
