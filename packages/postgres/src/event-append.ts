import type { SqlExecutor } from '@trellis/core';
import { type AppendResult, ConcurrencyError, type PreparedAppend, storedEvent } from '@trellis/eventstore';

/** What `trellis_append_events` reports for one append of a batch. */
export interface AppendOutcome {
  ok: boolean;
  actual: number;
  firstPosition: number | null;
}

const EXPECTED_CODES = { any: -1, no_stream: -2, stream_exists: -3 } as const;

/** Encodes appends as the function's JSON argument (one parameter, parsed once by the server). */
export function encodeBatch(inputs: readonly PreparedAppend[]): string {
  return JSON.stringify(
    inputs.map((a) => ({
      s: a.streamId,
      t: a.aggregateType,
      x: typeof a.expectedVersion === 'number' ? a.expectedVersion : EXPECTED_CODES[a.expectedVersion],
      e: a.events.map((e) => ({
        i: e.id,
        y: e.eventType,
        v: e.schemaVersion,
        p: e.payload,
        m: e.metadata,
        at: e.timestamp.toISOString(),
      })),
    })),
  );
}

interface OutcomeRow {
  idx: number;
  ok: boolean;
  actual_version: number | string;
  first_position: number | string | null;
}

const APPEND_SQL = 'SELECT * FROM trellis_append_events($1::jsonb, $2)';

interface NamedQueryable {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs the statement as a named prepared statement when `sql` exposes its pg client or pool
 * (parsed and planned once per connection), else as a plain query.
 */
async function queryAppend(sql: Pick<SqlExecutor, 'query'>, values: unknown[]): Promise<OutcomeRow[]> {
  const target =
    (sql as { client?: NamedQueryable; pool?: NamedQueryable }).client ??
    (sql as { pool?: NamedQueryable }).pool;
  if (target && typeof target.query === 'function') {
    const res = await target.query({ name: 'trellis_append_events', text: APPEND_SQL, values });
    return res.rows as OutcomeRow[];
  }
  return sql.query<OutcomeRow>(APPEND_SQL, values);
}

/** Runs a batch of appends in one statement on `sql` (a transaction, or the pool for autocommit). */
export async function runAppendBatch(
  sql: Pick<SqlExecutor, 'query'>,
  inputs: readonly PreparedAppend[],
  notify: boolean,
): Promise<AppendOutcome[]> {
  const rows = await queryAppend(sql, [encodeBatch(inputs), notify]);
  const outcomes: AppendOutcome[] = [];
  for (const r of rows) {
    outcomes[r.idx] = {
      ok: r.ok,
      actual: Number(r.actual_version),
      firstPosition: r.first_position === null ? null : Number(r.first_position),
    };
  }
  return outcomes;
}

/** Turns an outcome into the append's result; throws `ConcurrencyError` for a failed check. */
export function toResult(input: PreparedAppend, outcome: AppendOutcome | undefined): AppendResult {
  if (!outcome) throw new Error(`trellis_append_events returned no outcome for stream ${input.streamId}`);
  if (!outcome.ok) throw new ConcurrencyError(input.streamId, input.expectedVersion, outcome.actual);
  const first = outcome.firstPosition ?? 0;
  const events = input.events.map((e, i) =>
    storedEvent(e, input.streamId, input.aggregateType, outcome.actual + i + 1, first + i),
  );
  return {
    nextExpectedVersion: outcome.actual + events.length,
    lastPosition: events.at(-1)?.position ?? 0,
    events,
  };
}

/**
 * Emmett PR #88: a unique (stream_id, version) violation is a lost optimistic-concurrency
 * race (possible under REPEATABLE READ, or with writers that bypass the function), so it
 * becomes the typed `ConcurrencyError`, never a generic failure.
 */
export function mapAppendError(err: unknown, input: PreparedAppend): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505' && e.constraint === 'trellis_events_stream_version') {
    return new ConcurrencyError(input.streamId, input.expectedVersion, undefined, { cause: err });
  }
  return err;
}
