import type { SqlTransaction } from '@trellis/core';
import type { DomainEvent } from './domain-event.js';
import type { AppendHook, EventStore, TransactionContext } from './event-store.js';

/** What a projection handler gets besides the event. */
export interface ProjectionContext<Tx extends TransactionContext = SqlTransaction> {
  /** The transaction the read model update commits in (with the checkpoint, or the append). */
  tx: Tx;
  /**
   * The table to write. Usually the projection's own `table`; during a rebuild it is a
   * fresh table (`<table>__rebuild`) that replaces the live one when it has caught up.
   */
  table: string;
}

/**
 * A CQRS read model fed by events. The same projection can run inline (inside each append's
 * transaction, see {@link inlineProjection}) or async (its own checkpoint, see
 * `ProjectionRunner`). Handlers must be deterministic functions of the events so a rebuild
 * from position 0 produces the same table.
 */
export interface Projection<Tx extends TransactionContext = SqlTransaction> {
  /** Unique name; also the checkpoint name of the async runner. */
  readonly name: string;
  /** Name of the table (or other target) the projection maintains. */
  readonly table: string;
  /** Only these event types reach `project` (all when absent). */
  readonly eventTypes?: readonly string[];
  /** Creates `ctx.table` if it does not exist (idempotent). */
  setup?(ctx: ProjectionContext<Tx>): Promise<void> | void;
  /** Applies one event to `ctx.table`. */
  project(event: DomainEvent, ctx: ProjectionContext<Tx>): Promise<void> | void;
  /** Removes `ctx.table`. Default for SQL transactions: `DROP TABLE IF EXISTS`. */
  drop?(ctx: ProjectionContext<Tx>): Promise<void> | void;
  /**
   * Replaces `ctx.table` with the rebuilt table `from`, atomically in `ctx.tx`. Default for
   * SQL transactions: drop the old table and rename the new one. (PostgreSQL keeps index
   * names on rename: name indexes after `ctx.table` and drop them in `drop`.)
   */
  promote?(ctx: ProjectionContext<Tx> & { from: string }): Promise<void> | void;
}

/** True when the projection wants this event. */
export function wants(projection: Pick<Projection<never>, 'eventTypes'>, event: DomainEvent): boolean {
  return !projection.eventTypes || projection.eventTypes.includes(event.eventType);
}

/**
 * Turns a projection into an append hook: the read model is updated inside the same
 * transaction as the events, so it is never behind and never ahead of the log.
 */
export function inlineProjection<Tx extends TransactionContext>(projection: Projection<Tx>): AppendHook<Tx> {
  return async (tx, events) => {
    for (const event of events) {
      if (wants(projection, event)) await projection.project(event, { tx, table: projection.table });
    }
  };
}

/**
 * Creates the projection's table and registers it as an inline projection on `store`.
 * Returns the function that unregisters it.
 */
export async function useInlineProjection<Tx extends TransactionContext>(
  store: EventStore<Tx>,
  projection: Projection<Tx>,
): Promise<() => void> {
  await store.transaction(async (tx) => {
    await projection.setup?.({ tx, table: projection.table });
  });
  return store.onAppend(inlineProjection(projection));
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain SQL identifier (table names are interpolated into SQL). */
export function sqlIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a plain SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

interface Executes {
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

function executor(tx: unknown, what: string): Executes {
  if (typeof (tx as Partial<Executes>).execute !== 'function') {
    throw new Error(`Projection must implement ${what}() for a non-SQL transaction`);
  }
  return tx as Executes;
}

/** `projection.drop`, or `DROP TABLE IF EXISTS` for SQL transactions. */
export async function dropTarget<Tx extends TransactionContext>(
  p: Projection<Tx>,
  ctx: ProjectionContext<Tx>,
): Promise<void> {
  if (p.drop) return p.drop(ctx);
  await executor(ctx.tx, 'drop').execute(`DROP TABLE IF EXISTS ${sqlIdentifier(ctx.table)}`);
}

/** `projection.promote`, or drop-and-rename for SQL transactions. */
export async function promoteTarget<Tx extends TransactionContext>(
  p: Projection<Tx>,
  ctx: ProjectionContext<Tx> & { from: string },
): Promise<void> {
  if (p.promote) return p.promote(ctx);
  const sql = executor(ctx.tx, 'promote');
  await sql.execute(`DROP TABLE IF EXISTS ${sqlIdentifier(ctx.table)}`);
  await sql.execute(`ALTER TABLE ${sqlIdentifier(ctx.from)} RENAME TO ${sqlIdentifier(ctx.table)}`);
}
