/**
 * Child process for the projection crash test: runs an async projection over a PostgreSQL database
 * and kills itself with SIGKILL in the middle of a batch (after handling `killAt`, before
 * the batch commits). Usage: `projection-crash-child.ts <url> <killAt>`.
 */
import type { SqlTransaction } from '@trellis/core';
import { type DomainEvent, type ProjectionContext, ProjectionRunner } from '@trellis/eventstore';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';

const [url, killAt] = process.argv.slice(2);
const db = PostgresDatabase.connect(url ?? '');
const store = await PostgresEventStore.create(db);
const checkpoints = await PostgresCheckpointStore.create(db);

async function setup({ tx }: ProjectionContext): Promise<void> {
  await tx.execute('CREATE TABLE IF NOT EXISTS handled (position BIGINT PRIMARY KEY, n INTEGER NOT NULL)');
}

/** Deliberately not idempotent: a replayed event would show up as n = 2. */
async function project(e: DomainEvent, { tx }: ProjectionContext): Promise<void> {
  await tx.execute(
    'INSERT INTO handled (position, n) VALUES ($1, 1) ON CONFLICT (position) DO UPDATE SET n = handled.n + 1',
    [e.position],
  );
  if (e.position === Number(killAt)) process.kill(process.pid, 'SIGKILL');
}

const runner = new ProjectionRunner<SqlTransaction>({
  store,
  checkpoints,
  batchSize: 10,
  projection: { name: 'handled', table: 'handled', setup, project },
});
await runner.setup();
await runner.catchUp();
