/**
 * Durable 3-step saga on one PostgreSQL (fsync on, `startPostgres({ durable: true })`):
 * Trellis `SagaRunner` + `PostgresSagaStore` vs DBOS Transact 5.3 (a workflow of three
 * `DBOS.runStep`s) vs a plain in-memory loop (no durability: the ceiling). Same durability for
 * both durable subjects: every step's outcome is committed before the next step starts.
 * Sequential (one saga at a time) and 20 in flight; sagas/s and latency percentiles.
 *
 * `npm run bench -- saga [--quick]`
 */
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { PostgresDatabase, PostgresSagaStore } from '@trellis/postgres';
import { defineSaga, SagaRunner } from '@trellis/saga';
import { startPostgres } from '@trellis/testing';
import { percentiles } from './lib/measure.js';
import { type BenchRow, report, withRatios } from './lib/report.js';

const quick = process.argv.includes('--quick');
const durationMs = quick ? 1500 : 3000;
const warmupMs = quick ? 300 : 1000;
const rounds = quick ? 1 : 5;

// The work inside each step: the same tiny piece of logic for every subject.
const reserve = async (orderId: string) => ({ reservationId: `r-${orderId}` });
const charge = async (amount: number) => ({ paymentId: `p-${amount}` });
const ship = async (orderId: string) => ({ shipmentId: `s-${orderId}` });

type Run = (i: number) => Promise<unknown>;

/** Runs `run` with `inFlight` concurrent callers for `ms`; returns sagas/s and latencies. */
async function measure(
  run: Run,
  inFlight: number,
  ms: number,
): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let n = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await run(n++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { perSecond: (latencies.length * 1000) / (performance.now() - start), latencies };
}

/**
 * Best of `rounds` for every subject, interleaved (A, B, C, A, B, C…) so that load from
 * elsewhere on the shared machine hits every subject alike.
 */
async function interleaved(
  subjects: Array<[string, Run]>,
  inFlight: number,
): Promise<Map<string, { perSecond: number; latencies: number[] }>> {
  const top = new Map<string, { perSecond: number; latencies: number[] }>();
  for (const [, run] of subjects) await measure(run, inFlight, warmupMs);
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of subjects) {
      const m = await measure(run, inFlight, durationMs);
      if (m.perSecond > (top.get(name)?.perSecond ?? 0)) top.set(name, m);
    }
  }
  return top;
}

const pg = await startPostgres({ durable: true });
try {
  const trellisUrl = await pg.createDatabase('bench_trellis_saga');
  const dbosUrl = await pg.createDatabase('bench_dbos_saga');

  // Trellis: the durable runner on the PostgreSQL store.
  const db = PostgresDatabase.connect(trellisUrl, { max: 20 });
  const store = await PostgresSagaStore.create(db);
  const runner = new SagaRunner({ store, worker: 'bench' });
  const saga = defineSaga<{ orderId: string; amount: number }>('bench-order')
    .step({ name: 'reserve', execute: (ctx) => reserve(ctx.orderId) })
    .step({ name: 'charge', execute: (ctx) => charge(ctx.amount) })
    .step({ name: 'ship', execute: (ctx) => ship(ctx.orderId) })
    .build();
  const trellis: Run = async (i) => {
    const r = await runner.run(saga, { orderId: `o${i}`, amount: i });
    if (r.status !== 'completed') throw new Error(`saga ${r.sagaId} ended ${r.status}`);
  };

  // DBOS Transact: a workflow of three steps, each checkpointed in its system database.
  DBOS.setConfig({
    name: 'trellis-bench',
    systemDatabaseUrl: dbosUrl,
    logLevel: 'error',
    systemDatabasePoolSize: 20,
  });
  const workflow = DBOS.registerWorkflow(
    async (orderId: string, amount: number) => {
      const a = await DBOS.runStep(() => reserve(orderId), { name: 'reserve' });
      const b = await DBOS.runStep(() => charge(amount), { name: 'charge' });
      const c = await DBOS.runStep(() => ship(orderId), { name: 'ship' });
      return { ...a, ...b, ...c };
    },
    { name: 'benchOrder' },
  );
  await DBOS.launch();
  const dbos: Run = (i) => workflow(`o${i}`, i);

  // The ceiling: the same three calls in a plain loop, nothing persisted.
  const plain: Run = async (i) => {
    const orderId = `o${i}`;
    return { ...(await reserve(orderId)), ...(await charge(i)), ...(await ship(orderId)) };
  };

  const rows: BenchRow[] = [];
  for (const inFlight of [1, 20]) {
    const label = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
    const subjects: Array<[string, Run]> = [
      [`DBOS Transact 5.3 (${label})`, dbos],
      [`Trellis SagaRunner (${label})`, trellis],
      [`plain in-memory loop (${label})`, plain],
    ];
    const measured = await interleaved(subjects, inFlight);
    const group: BenchRow[] = subjects.map(([name]) => {
      const m = measured.get(name)!;
      const p = percentiles(m.latencies);
      return {
        name,
        value: m.perSecond,
        unit: 'sagas/s',
        extra: { p50_ms: p.p50, p99_ms: p.p99, max_ms: p.max },
      };
    });
    rows.push(...withRatios(group, `DBOS Transact 5.3 (${label})`));
  }
  const [checkpointWrites, creates] = [store.checkpoints.stats, store.creates.stats];
  report('saga', rows, [
    'PostgreSQL with fsync and synchronous_commit on; both durable subjects commit each step outcome before the next step.',
    `Trellis writes per saga: 1 start + 1 checkpoint per step (the last one also marks it completed); group commit shared ${checkpointWrites.writes} checkpoints over ${checkpointWrites.flushes} statements and ${creates.writes} starts over ${creates.flushes}.`,
    'The plain loop persists nothing: it is the ceiling, not a competitor.',
  ]);
  await runner.close();
  await db.close();
  await DBOS.shutdown();
} finally {
  await pg.destroy();
}
