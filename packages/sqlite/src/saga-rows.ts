/** Row shapes of the SQLite saga tables and their conversion to the saga store's types. */
import type { NewSagaEvent, SagaEvent, SagaInstance } from '@trellis/saga';

/** A `trellis_sagas` row as better-sqlite3 returns it. */
export interface SagaRow {
  id: string;
  name: string;
  status: SagaInstance['status'];
  step: number;
  context: string;
  input: string;
  error: string | null;
  resume_status: SagaInstance['resumeStatus'];
  trace: string;
  owner: string | null;
  worker: string | null;
  lease_until: number;
  version: number;
  recoveries: number;
  created_at: number;
  updated_at: number;
}

/** A `trellis_saga_events` row. */
export interface SagaEventRow {
  seq: number;
  saga_id: string;
  at: number;
  kind: SagaEvent['kind'];
  step: string | null;
  attempt: number | null;
  duration_ms: number | null;
  error: string | null;
  note: string | null;
}

/** Appends one timeline entry. */
export const INSERT_EVENT = `INSERT INTO trellis_saga_events (saga_id, at, kind, step, attempt, duration_ms, error, note)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** Parameters of {@link INSERT_EVENT}. */
export function eventParams(sagaId: string, e: NewSagaEvent): unknown[] {
  return [
    sagaId,
    Math.round(e.at),
    e.kind,
    e.step,
    e.attempt,
    e.durationMs,
    e.error ? JSON.stringify(e.error) : null,
    e.note,
  ];
}

/** Row → instance. */
export function toInstance(r: SagaRow): SagaInstance {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    step: r.step,
    context: JSON.parse(r.context) as Record<string, unknown>,
    input: JSON.parse(r.input) as Record<string, unknown>,
    error: r.error ? (JSON.parse(r.error) as SagaInstance['error']) : null,
    resumeStatus: r.resume_status,
    trace: JSON.parse(r.trace) as SagaInstance['trace'],
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
export function toEvent(r: SagaEventRow): SagaEvent {
  return {
    seq: r.seq,
    sagaId: r.saga_id,
    at: r.at,
    kind: r.kind,
    step: r.step,
    attempt: r.attempt,
    durationMs: r.duration_ms,
    error: r.error ? (JSON.parse(r.error) as SagaEvent['error']) : null,
    note: r.note,
  };
}
