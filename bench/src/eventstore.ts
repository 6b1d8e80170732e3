/**
 * Event store benchmarks, every subject in the same run against its baseline:
 *
 * 1. Append, 1 and 10 events per transaction, with optimistic concurrency (numeric expected
 *    version) on 1,000 rotating streams:
 *    - SQLite (WAL, synchronous=NORMAL): Trellis `SqliteEventStore` vs a raw better-sqlite3
 *      insert of the same rows into the same table vs Emmett-sqlite 0.38.5;
 *    - PostgreSQL 15 with fsync on (`startPostgres({ durable: true })`): Trellis
 *      `PostgresEventStore` vs raw pg (`BEGIN; INSERT; COMMIT` per call, and a single
 *      autocommit INSERT) vs Emmett-postgresql 0.42.0, sequential and with 8 / 16 writers.
 * 2. Aggregate load time at 10, 1,000 and 100,000 events, with and without snapshots.
 * 3. readAll catch-up throughput over 100,000 events vs a raw SELECT with the same decoding.
 *
 * `npm run bench -- eventstore [--quick] [--only=sqlite,sqlite-load,pg,pg-outbox,pg-load] [--sizes=1,10] [--writers=1,8,16]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Aggregate, type EventLike, type EventStore, type NewEvent } from '@trellis/eventstore';
import { outboxAppendHook } from '@trellis/messaging';
import {
  migrateEventTables as migratePg,
  PostgresDatabase,
  PostgresEventStore,
  PostgresOutbox,
  PostgresSnapshotStore,
} from '@trellis/postgres';
import {
  migrateEventTables as migrateSqlite,
  SqliteDatabase,
  SqliteEventStore,
  SqliteSnapshotStore,
} from '@trellis/sqlite';
import { startPostgres } from '@trellis/testing';
import pg from 'pg';
import { percentiles } from './lib/measure.js';
import { type BenchRow, report } from './lib/report.js';

const quick = process.argv.includes('--quick');
const durationMs = quick ? 1000 : 2000;
const warmupMs = quick ? 200 : 500;
/** Rounds per subject; each subject keeps its best (other jobs load the shared machine in bursts). */
const rounds = quick ? 1 : 4;
/** PostgreSQL commits wait on a disk other jobs share too: more rounds, each kept at its best. */
const pgRounds = quick ? 1 : 7;
const STREAMS = 1000;
const rows: BenchRow[] = [];
const notes: string[] = [];

// ---------------------------------------------------------------- measurement helpers

type Op = (i: number) => Promise<unknown> | unknown;

/**
 * How rates are counted. `wall`: operations per elapsed second (PostgreSQL: the work is in
 * the server and the disk, so only wall time tells). `cpu`: operations per CPU-second of
 * this process, for in-process work (better-sqlite3 runs inside it, and WAL with
 * synchronous=NORMAL does not fsync on commit): it stays meaningful when other jobs load the
 * shared machine, which wall time does not.
 */
let clockMode: 'wall' | 'cpu' = 'wall';

/** Runs `op` with `inFlight` concurrent callers for `ms`; returns ops/s (see `clockMode`). */
async function timed(op: Op, inFlight: number, ms: number): Promise<number> {
  let n = 0;
  let done = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await op(n++);
        done++;
      }
    }),
  );
  if (clockMode === 'cpu') {
    const used = process.cpuUsage(cpu0);
    return (done * 1e6) / (used.user + used.system);
  }
  return (done * 1000) / (performance.now() - start);
}

async function best(op: Op, inFlight = 1): Promise<number> {
  await timed(op, inFlight, warmupMs);
  let top = 0;
  for (let r = 0; r < rounds; r++) top = Math.max(top, await timed(op, inFlight, durationMs));
  return top;
}

/**
 * Measures several subjects in alternation (A B C A B C …) and keeps each one's best round,
 * so a burst of load on the shared machine hits every subject alike.
 */
async function compare(subjects: Array<{ op: Op; inFlight: number }>, times = rounds): Promise<number[]> {
  for (const s of subjects) await timed(s.op, s.inFlight, warmupMs);
  const top = subjects.map(() => 0);
  for (let r = 0; r < times; r++) {
    for (const [i, s] of subjects.entries())
      top[i] = Math.max(top[i]!, await timed(s.op, s.inFlight, durationMs));
  }
  return top;
}

function row(
  name: string,
  value: number,
  unit: string,
  baseline?: BenchRow,
  extra?: BenchRow['extra'],
): BenchRow {
  const r: BenchRow = { name, value, unit, ...(extra ? { extra } : {}) };
  if (baseline) {
    r.ratio = value / baseline.value;
    r.ratioTo = baseline.name;
  }
  rows.push(r);
  console.log(
    `${name}: ${value.toFixed(value < 100 ? 2 : 0)} ${unit}${r.ratio ? ` (${r.ratio.toFixed(2)}× ${r.ratioTo})` : ''}`,
  );
  return r;
}

/** The events of one append: `n` ItemAdded with a small payload and metadata. */
function orderEvents(n: number, i: number): NewEvent[] {
  return Array.from({ length: n }, (_, k) => ({
    eventType: 'ItemAdded',
    payload: { productId: `p-${(i + k) % 500}`, quantity: 1 + (k % 3), unitPrice: 1999 },
    metadata: { correlationId: `c-${i}` },
  }));
}

/** Per-stream versions so every subject appends with a real expected-version check. */
function versions() {
  const v = new Map<string, number>();
  return {
    stream: (i: number) => `order-${i % STREAMS}`,
    get: (s: string) => v.get(s) ?? 0,
    bump: (s: string, n: number) => v.set(s, (v.get(s) ?? 0) + n),
  };
}

// ---------------------------------------------------------------- Emmett (typed subset)

interface EmmettEvent {
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}
interface EmmettStore {
  appendToStream(
    stream: string,
    events: EmmettEvent[],
    options?: { expectedStreamVersion?: bigint },
  ): Promise<unknown>;
  close?(): Promise<void> | void;
}
const emmettSqlite = (await import('@trellis/anchor-emmett-sqlite' as string)) as {
  getSQLiteEventStore(options: { fileName: string }): EmmettStore;
};
const emmettPg = (await import('@trellis/anchor-emmett-postgresql' as string)) as {
  getPostgreSQLEventStore(url: string): EmmettStore;
};
const toEmmett = (events: NewEvent[]): EmmettEvent[] =>
  events.map((e) => ({ type: e.eventType, data: e.payload, metadata: e.metadata ?? {} }));

/** An append op for any store shaped like ours. */
function trellisAppend(store: EventStore, size: number): Op {
  const v = versions();
  return async (i) => {
    const s = v.stream(i);
    const expected = v.get(s);
    v.bump(s, size); // reserve before awaiting: concurrent callers pick other streams
    await store.append(s, orderEvents(size, i), { expectedVersion: expected, aggregateType: 'Order' });
  };
}

/** Emmett failures seen during the run (Emmett-sqlite 0.38.5 sometimes fails with SQLITE_BUSY). */
const emmettErrors: string[] = [];
process.on('unhandledRejection', (err) => {
  // Emmett-sqlite rejects some promises it never hands back to the caller.
  emmettErrors.push(String(err));
});

function emmettAppend(store: EmmettStore, size: number): Op {
  const v = versions();
  let generation = 0;
  return async (i) => {
    const s = `${v.stream(i)}-g${generation}`;
    const expected = v.get(s);
    v.bump(s, size);
    try {
      await store.appendToStream(s, toEmmett(orderEvents(size, i)), {
        expectedStreamVersion: BigInt(expected),
      });
    } catch (err) {
      // The failed append's outcome is unknown: continue on fresh streams.
      emmettErrors.push(String(err));
      generation++;
    }
  };
}

// ---------------------------------------------------------------- SQLite appends

const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-es-'));

async function sqliteAppends(): Promise<void> {
  clockMode = 'cpu';
  for (const size of [1, 10]) {
    const rawDb = SqliteDatabase.open(join(dir, `raw-${size}.db`));
    await migrateSqlite(rawDb);
    const raw = rawDb.raw;
    const insert = raw.prepare(
      `INSERT INTO trellis_events (stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const v = versions();
    const writeTx = raw.transaction((s: string, from: number, events: NewEvent[]) => {
      events.forEach((e, k) => {
        insert.run(
          s,
          from + k + 1,
          crypto.randomUUID(),
          'Order',
          e.eventType,
          1,
          JSON.stringify(e.payload),
          JSON.stringify(e.metadata),
          new Date().toISOString(),
        );
      });
    });
    const rawOp: Op = (i) => {
      const s = v.stream(i);
      const from = v.get(s);
      v.bump(s, size);
      writeTx.immediate(s, from, orderEvents(size, i));
    };
    const db = SqliteDatabase.open(join(dir, `trellis-${size}.db`));
    const store = await SqliteEventStore.create(db);
    const emmett = emmettSqlite.getSQLiteEventStore({ fileName: join(dir, `emmett-${size}.db`) });
    const [rawRate, trellisRate] = await compare([
      { op: rawOp, inFlight: 1 },
      { op: trellisAppend(store, size), inFlight: 1 },
    ]);
    const rawRow = row(`sqlite raw better-sqlite3, ${size} ev/tx`, rawRate!, 'tx/CPU-s');
    row(`sqlite Trellis, ${size} ev/tx`, trellisRate!, 'tx/CPU-s', rawRow);
    // Emmett is ~100× slower: measured once, on its own (its sqlite3 thread pool counts too).
    row(`sqlite Emmett 0.38.5, ${size} ev/tx`, await best(emmettAppend(emmett, size)), 'tx/CPU-s', rawRow);
    await emmett.close?.();
    await db.close();
    await rawDb.close();
  }
  clockMode = 'wall';
}

// ---------------------------------------------------------------- PostgreSQL appends

const RAW_TABLE = `CREATE TABLE raw_events (
  position bigserial PRIMARY KEY, stream_id text NOT NULL, version bigint NOT NULL, id text NOT NULL,
  aggregate_type text NOT NULL, event_type text NOT NULL, schema_version integer NOT NULL,
  payload jsonb NOT NULL, metadata jsonb NOT NULL, created_at timestamptz NOT NULL,
  UNIQUE (stream_id, version))`;

function rawPgInsert(s: string, from: number, events: NewEvent[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples = events.map((e, k) => {
    const b = values.length;
    values.push(
      s,
      from + k + 1,
      crypto.randomUUID(),
      'Order',
      e.eventType,
      1,
      JSON.stringify(e.payload),
      JSON.stringify(e.metadata),
      new Date(),
    );
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9})`;
  });
  return {
    text: `INSERT INTO raw_events (stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at) VALUES ${tuples.join(', ')}`,
    values,
  };
}

const listArg = (name: string, fallback: number[]) =>
  process.argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(',')
    .map(Number) ?? fallback;

async function postgresAppends(server: Awaited<ReturnType<typeof startPostgres>>): Promise<void> {
  for (const size of listArg('sizes', [1, 10])) {
    for (const writers of listArg('writers', [1, 8, 16])) {
      const label = writers === 1 ? 'sequential' : `${writers} writers`;
      // Raw pg: one transaction per call (BEGIN; INSERT; COMMIT), on `writers` connections.
      const rawUrl = await server.createDatabase('raw');
      const pool = new pg.Pool({ connectionString: rawUrl, max: writers });
      pool.on('error', () => {});
      await pool.query(RAW_TABLE);
      const v = versions();
      const rawTx: Op = async (i) => {
        const s = v.stream(i);
        const from = v.get(s);
        v.bump(s, size);
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const q = rawPgInsert(s, from, orderEvents(size, i));
          await client.query(q.text, q.values);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      };
      const v2 = versions();
      const rawAuto: Op = async (i) => {
        const s = v2.stream(i);
        const from = v2.get(s);
        v2.bump(s, size);
        const q = rawPgInsert(`auto-${s}`, from, orderEvents(size, i));
        await pool.query(q.text, q.values);
      };
      const db = PostgresDatabase.connect(await server.createDatabase('trellis'), { max: writers + 2 });
      const store = await PostgresEventStore.create(db);
      const emmett = emmettPg.getPostgreSQLEventStore(await server.createDatabase('emmett'));
      const [rawRate, autoRate, trellisRate, emmettRate] = await compare(
        [
          { op: rawTx, inFlight: writers },
          { op: rawAuto, inFlight: writers },
          { op: trellisAppend(store, size), inFlight: writers },
          { op: emmettAppend(emmett, size), inFlight: writers },
        ],
        pgRounds,
      );
      const rawRow = row(`pg raw BEGIN/INSERT/COMMIT, ${size} ev/tx, ${label}`, rawRate!, 'tx/s');
      row(`pg raw single autocommit INSERT, ${size} ev/tx, ${label}`, autoRate!, 'tx/s', rawRow);
      const stats = store.groupCommitStats;
      row(`pg Trellis, ${size} ev/tx, ${label}`, trellisRate!, 'tx/s', rawRow, {
        appendsPerCommit: stats ? Number((stats.appends / stats.batches).toFixed(2)) : 1,
      });
      row(`pg Emmett 0.42.0, ${size} ev/tx, ${label}`, emmettRate!, 'tx/s', rawRow);
      await pool.end();
      await store.close();
      await db.close();
      await emmett.close?.();
    }
  }
}

// ---------------------------------------------------------------- PostgreSQL appends + outbox

const RAW_OUTBOX = `CREATE TABLE raw_outbox (
  seq bigserial PRIMARY KEY, id text NOT NULL, topic text NOT NULL, msg_key text, headers text NOT NULL,
  payload text NOT NULL, published_at bigint NOT NULL, target_group text)`;

/**
 * The production path: events plus their outbox rows in one transaction. Raw pg does
 * `BEGIN; INSERT event; INSERT outbox row; COMMIT`; Trellis appends with the messaging
 * outbox (`outboxAppendHook(PostgresOutbox)`) as a transactional append hook.
 */
async function postgresOutboxAppends(server: Awaited<ReturnType<typeof startPostgres>>): Promise<void> {
  for (const writers of listArg('writers', [1, 8, 16])) {
    const label = writers === 1 ? 'sequential' : `${writers} writers`;
    const pool = new pg.Pool({ connectionString: await server.createDatabase('raw_outbox'), max: writers });
    pool.on('error', () => {});
    await pool.query(RAW_TABLE);
    await pool.query(RAW_OUTBOX);
    const v = versions();
    const rawTx: Op = async (i) => {
      const s = v.stream(i);
      const from = v.get(s);
      v.bump(s, 1);
      const [event] = orderEvents(1, i);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const q = rawPgInsert(s, from, [event!]);
        await client.query(q.text, q.values);
        await client.query(
          'INSERT INTO raw_outbox (id, topic, msg_key, headers, payload, published_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [
            crypto.randomUUID(),
            'Order.ItemAdded',
            s,
            JSON.stringify(event!.metadata),
            JSON.stringify(event!.payload),
            Date.now(),
          ],
        );
        await client.query("SELECT pg_notify('raw_outbox', '')");
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    const db = PostgresDatabase.connect(await server.createDatabase('trellis_outbox'), { max: writers + 2 });
    const store = await PostgresEventStore.create(db);
    store.onAppend(outboxAppendHook(await PostgresOutbox.create(db)));
    const [rawRate, trellisRate] = await compare(
      [
        { op: rawTx, inFlight: writers },
        { op: trellisAppend(store, 1), inFlight: writers },
      ],
      pgRounds,
    );
    const rawRow = row(`pg raw event + outbox row per tx, 1 ev/tx, ${label}`, rawRate!, 'tx/s');
    const stats = store.groupCommitStats;
    row(`pg Trellis + outbox append hook, 1 ev/tx, ${label}`, trellisRate!, 'tx/s', rawRow, {
      appendsPerCommit: stats ? Number((stats.appends / stats.batches).toFixed(2)) : 1,
    });
    await pool.end();
    await store.close();
    await db.close();
  }
}

// ---------------------------------------------------------------- aggregate load and readAll

type Tick = EventLike<'Ticked', { by: number }>;
/** Constant-size state, so load time measures history length, not state size. */
class Counter extends Aggregate<Tick> {
  static readonly aggregateType = 'Counter';
  static readonly snapshotEvery = 100;
  state = { total: 0, count: 0 };
  protected when(e: Tick): void {
    this.state.total += e.payload.by;
    this.state.count++;
  }
}

async function fill(store: EventStore, stream: string, n: number): Promise<void> {
  for (let done = 0; done < n; done += 1000) {
    const size = Math.min(1000, n - done);
    const events = Array.from({ length: size }, (_, k) => ({
      eventType: 'Ticked',
      payload: { by: (done + k) % 7 },
    }));
    await store.append(stream, events, { aggregateType: 'Counter' });
  }
}

const msUnit = () => (clockMode === 'cpu' ? 'CPU-ms' : 'ms');
const rateUnit = (what: string) => (clockMode === 'cpu' ? `${what}/CPU-s` : `${what}/s`);

/** Milliseconds now: wall clock, or this process's CPU time in `cpu` mode (see `clockMode`). */
function nowMs(): number {
  if (clockMode === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function medianMs(fn: () => Promise<unknown>, samples: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = nowMs();
    await fn();
    times.push(nowMs() - t0);
  }
  return percentiles(times).p50;
}

async function loadsAndCatchUp(
  backend: string,
  store: EventStore,
  snapshots: SqliteSnapshotStore | PostgresSnapshotStore,
  rawReadAll: (from: number, limit: number) => Promise<number>,
): Promise<void> {
  const sizes = [10, 1000, 100_000];
  for (const n of sizes) await fill(store, `counter-${n}`, n);
  let base: BenchRow | undefined;
  for (const n of sizes) {
    await Counter.load(store, `counter-${n}`, { snapshots }); // writes the snapshot
    const ms = await medianMs(() => Counter.load(store, `counter-${n}`, { snapshots }), n > 1000 ? 50 : 200);
    const r = row(`${backend} load with snapshots, ${n.toLocaleString('en-US')} events`, ms, msUnit(), base);
    base ??= r;
  }
  base = undefined;
  for (const n of sizes) {
    const ms = await medianMs(() => Counter.load(store, `counter-${n}`), n > 1000 ? 3 : 50);
    const r = row(
      `${backend} load without snapshots, ${n.toLocaleString('en-US')} events`,
      ms,
      msUnit(),
      base,
    );
    base ??= r;
  }
  const head = await store.headPosition();
  const catchUp = async (read: (from: number, limit: number) => Promise<number>) => {
    let best = 0;
    for (let r = 0; r < (quick ? 1 : 3); r++) {
      const t0 = nowMs();
      let pos = 0;
      let total = 0;
      for (;;) {
        const got = await read(pos, 1000);
        if (got === 0) break;
        total += got;
        pos += got;
      }
      best = Math.max(best, (total * 1000) / (nowMs() - t0));
    }
    return best;
  };
  const rawRow = row(
    `${backend} raw SELECT + JSON decode, ${head.toLocaleString('en-US')} events`,
    await catchUp(rawReadAll),
    rateUnit('events'),
  );
  row(
    `${backend} Trellis readAll catch-up, ${head.toLocaleString('en-US')} events`,
    await catchUp(async (from, limit) => (await store.readAll(from, limit)).length),
    rateUnit('events'),
    rawRow,
  );
}

async function sqliteLoads(): Promise<void> {
  clockMode = 'cpu';
  const db = SqliteDatabase.open(join(dir, 'loads.db'));
  const store = await SqliteEventStore.create(db);
  const snapshots = await SqliteSnapshotStore.create(db);
  const select = db.raw.prepare('SELECT * FROM trellis_events WHERE position > ? ORDER BY position LIMIT ?');
  await loadsAndCatchUp('sqlite', store, snapshots, async (from, limit) => {
    const rs = select.all(from, limit) as Array<{ payload: string; metadata: string; created_at: string }>;
    for (const r of rs) {
      JSON.parse(r.payload);
      JSON.parse(r.metadata);
      new Date(r.created_at);
    }
    return rs.length;
  });
  await db.close();
  clockMode = 'wall';
}

async function postgresLoads(server: Awaited<ReturnType<typeof startPostgres>>): Promise<void> {
  const url = await server.createDatabase('loads');
  const db = PostgresDatabase.connect(url);
  await migratePg(db);
  const store = await PostgresEventStore.create(db);
  const snapshots = await PostgresSnapshotStore.create(db);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await loadsAndCatchUp('pg', store, snapshots, async (from, limit) => {
    const r = await client.query(
      'SELECT * FROM trellis_events WHERE position > $1 ORDER BY position LIMIT $2',
      [from, limit],
    );
    return r.rows.length; // pg already parsed jsonb and timestamptz
  });
  await client.end();
  await store.close();
  await db.close();
}

// ---------------------------------------------------------------- run

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const want = (part: string) => !only || only.split(',').includes(part);
try {
  if (want('sqlite')) await sqliteAppends();
  if (want('sqlite-load')) await sqliteLoads();
  if (want('pg') || want('pg-outbox') || want('pg-load')) {
    const server = await startPostgres({ durable: true });
    try {
      if (want('pg')) await postgresAppends(server);
      if (want('pg-outbox')) await postgresOutboxAppends(server);
      if (want('pg-load')) await postgresLoads(server);
    } finally {
      await server.destroy();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
notes.push(
  'append: numeric expected version on 1,000 rotating streams; payload {productId, quantity, unitPrice} + correlationId metadata',
  'SQLite: WAL, synchronous=NORMAL, file in tmpdir; raw = better-sqlite3 prepared INSERTs into the same trellis_events table in BEGIN IMMEDIATE; rates per CPU-second of the process (all SQLite work is in-process; robust to load from other jobs)',
  'PostgreSQL rates are per wall-clock second, subjects measured in alternation, best of several rounds each',
  'PostgreSQL 15 with fsync=on, synchronous_commit=on (startPostgres({ durable: true })); raw table has the same columns and indexes (bigserial position)',
  'Trellis pg without a tx = group commit: concurrent appends share one commit, each with its own expected-version check',
  'aggregate load: a Counter with constant-size state, snapshot every 100 events; ratios are to the 10-event load',
);
if (emmettErrors.length > 0) {
  notes.push(`Emmett failed ${emmettErrors.length} appends during the run, e.g. ${emmettErrors[0]}`);
}
report('eventstore', rows, notes);
