/**
 * The worker process of the crash test: it runs many sagas against a real backend while the
 * test kills it with SIGKILL at random moments, then starts it again. Every step call and
 * every applied effect is written to the database (not kept in memory), so the test can check
 * afterwards what really happened across all the killed processes.
 *
 * Steps behave like calls to idempotent services: a call is recorded in `crash_calls`, then
 * its effect is applied once per idempotency key in `crash_effects`.
 */
import type { SqlDatabase } from '@trellis/core';
import { retry } from '@trellis/resilience';
import { defineSaga } from '../builder.js';
import { TerminalStepError } from '../errors.js';
import { SagaRunner } from '../runner.js';
import type { SagaStore } from '../store.js';

/** Tables the crash test reads. Plain SQL that both backends accept. */
export const CRASH_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS crash_calls (
     saga_id TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL, idem_key TEXT NOT NULL,
     attempt INTEGER NOT NULL, pid INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS crash_effects (
     idem_key TEXT PRIMARY KEY, saga_id TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL)`,
];

/** What the child needs. */
export interface CrashChildOptions {
  db: SqlDatabase;
  store: SagaStore;
  /** Stable worker id: a restarted child takes its killed predecessor's sagas back at once. */
  worker: string;
  /** Saga ids `crash-0 … crash-(count-1)`; every third one fails at its last step and compensates. */
  count: number;
  /** Sagas started at once. */
  inFlight: number;
  /** Upper bound of the random pause inside each step (widens the windows a kill can hit). */
  maxStepMs?: number;
  /** Epoch ms to wait for before starting sagas, so that several children start together. */
  startAt?: number;
}

/**
 * Starts (idempotently) every saga of the scenario, recovers whatever a killed predecessor
 * left, waits until all are terminal, prints `done` and resolves.
 */
export async function runSagaCrashChild(o: CrashChildOptions): Promise<void> {
  // Two children creating the same tables at once can collide in PostgreSQL's catalog; retry.
  const patiently = retry({
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: { initialDelay: 20, maxDelay: 300 },
  });
  for (const sql of CRASH_SCHEMA) await patiently.execute(() => o.db.execute(sql));
  const pause = () => new Promise((r) => setTimeout(r, Math.floor(Math.random() * (o.maxStepMs ?? 20))));
  const call =
    (step: string, phase: 'execute' | 'compensate') =>
    async (ctx: { saga: { id: string; attempt: number }; idempotencyKey: string; fail?: boolean }) => {
      await o.db.execute(
        'INSERT INTO crash_calls (saga_id, step, phase, idem_key, attempt, pid) VALUES ($1, $2, $3, $4, $5, $6)',
        [ctx.saga.id, step, phase, ctx.idempotencyKey, ctx.saga.attempt, process.pid],
      );
      await pause();
      if (phase === 'execute' && step === 'ship' && ctx.fail) throw new TerminalStepError('no courier');
      await o.db.execute(
        'INSERT INTO crash_effects (idem_key, saga_id, step, phase) VALUES ($1, $2, $3, $4) ON CONFLICT (idem_key) DO NOTHING',
        [ctx.idempotencyKey, ctx.saga.id, step, phase],
      );
      await pause();
      return { [`${step}Done`]: true };
    };
  // The "services" keep their books in the same database: while it restarts, their calls fail
  // and are retried, like calls to a real service that is briefly down.
  const policies = {
    retry: { maxAttempts: 50, backoff: { initialDelay: 20, maxDelay: 300 } },
    compensation: { retry: { maxAttempts: 50, backoff: { initialDelay: 20, maxDelay: 300 } } },
  };
  const step = (name: string) => ({
    name,
    execute: call(name, 'execute'),
    compensate: call(name, 'compensate'),
    ...policies,
  });
  const saga = defineSaga<{ fail: boolean }>('crash-order')
    .step(step('reserve'))
    .step(step('charge'))
    .step(step('ship'))
    .build();
  const runner = new SagaRunner({
    store: o.store,
    worker: o.worker,
    pollIntervalMs: 50,
    leaseMs: 3_000,
    storeRetry: { initialDelay: 20, maxDelay: 300 },
  });
  // Starting and waiting talk to the database too; the application retries them while it is down.
  runner.register(saga);
  runner.startWorker();
  process.stdout.write('ready\n');
  if (o.startAt !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, o.startAt! - Date.now())));
  // Each process walks the ids in its own random order, so concurrent processes collide on
  // some ids (idempotent start) and share the rest.
  const ids = Array.from({ length: o.count }, (_, i) => i).sort(() => Math.random() - 0.5);
  let next = 0;
  await Promise.all(
    Array.from({ length: o.inFlight }, async () => {
      while (next < ids.length) {
        const i = ids[next++]!;
        await patiently.execute(async () => {
          const handle = await runner.start(saga, { fail: i % 3 === 0 }, { id: `crash-${i}` });
          await handle.result();
        });
      }
    }),
  );
  process.stdout.write('done\n');
  await runner.close();
}
