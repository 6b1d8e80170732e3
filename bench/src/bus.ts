/**
 * Bus end to end: messages/s from publish to handled, and the latency of each message (publish
 * call → handler), with the same publisher (a window of 256 publishes in flight) and the same
 * handler work for every subject:
 *
 * - raw `@nats-io/jetstream` 3.4: pipelined `js.publish`, one durable pull consumer
 *   (`consume()`, explicit ack) — the anchor;
 * - Trellis `JetStreamBus` on the same server: unkeyed, keyed (64 keys, per-key order), and
 *   unkeyed with a SQLite inbox (the handler's effect row + the inbox mark in one transaction);
 * - the embedded `SqliteBus` (WAL, synchronous=NORMAL): unkeyed, keyed, and with the inbox.
 *
 * NATS is nats-server 2.9 started by `startNats()` (file storage in a temp dir). Subjects run
 * interleaved, best of `rounds`. `npm run bench -- bus [--quick]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Bus, InMemoryDeadLetterStore, type MessageHandler, withInbox } from '@trellis/messaging';
import { JetStreamBus } from '@trellis/nats';
import { SqliteBus, SqliteDatabase, SqliteInbox } from '@trellis/sqlite';
import { startNats } from '@trellis/testing';
import { percentiles } from './lib/measure.js';
import { type BenchRow, report, withRatios } from './lib/report.js';

const quick = process.argv.includes('--quick');
const count = quick ? 5_000 : 20_000;
const rounds = quick ? 1 : 5;
const WINDOW = 256;

interface Payload {
  i: number;
  t: number;
}

/** One subject: publishes message `i` (stamped with its send time) and reports handling. */
interface Subject {
  name: string;
  publish(p: Payload, key: string): Promise<unknown>;
  /** Set by the runner before each round; the handler calls it once per message. */
  handled: (p: Payload) => void;
  close(): Promise<void>;
}

interface Result {
  perSecond: number;
  p50: number;
  p99: number;
}

/** Publishes `n` messages with WINDOW in flight and waits until all were handled. */
async function round(subject: Subject, n: number): Promise<Result> {
  const latencies = new Float64Array(n);
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  subject.handled = (p) => {
    if (seen >= n) return; // a redelivery (none expected): never count twice
    latencies[seen++] = performance.now() - p.t;
    if (seen === n) done();
  };
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < n) {
        const i = next++;
        await subject.publish({ i, t: performance.now() }, `k${i % 64}`);
      }
    }),
  );
  const timeout = setTimeout(() => done(), 120_000);
  await all;
  clearTimeout(timeout);
  const elapsed = performance.now() - start;
  const pct = percentiles(Array.from(latencies.subarray(0, seen)));
  if (seen < n) throw new Error(`${subject.name}: only ${seen}/${n} handled`);
  return { perSecond: (n * 1000) / elapsed, p50: pct.p50, p99: pct.p99 };
}

/**
 * Latency at a steady load below every subject's capacity: `rate` messages/s for `ms`, each
 * publish fired on schedule (not waiting for the previous one). Unlike the flood rounds, whose
 * latency is mostly time spent queued behind the backlog, this measures the transport.
 */
async function paced(subject: Subject, rate: number, ms: number): Promise<{ p50: number; p99: number }> {
  const n = Math.round((rate * ms) / 1000);
  const latencies: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => {
    done = r;
  });
  subject.handled = (p) => {
    latencies.push(performance.now() - p.t);
    if (latencies.length === n) done();
  };
  const start = performance.now();
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(subject.publish({ i, t: performance.now() }, `k${i % 64}`));
  }
  await Promise.all(sends);
  const timeout = setTimeout(() => done(), 60_000);
  await all;
  clearTimeout(timeout);
  if (latencies.length < n) throw new Error(`${subject.name}: only ${latencies.length}/${n} handled (paced)`);
  const pct = percentiles(latencies);
  return { p50: pct.p50, p99: pct.p99 };
}

const PACED_RATE = 1000;

const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-bus-'));
const nats = await startNats();

async function rawJetStream(): Promise<Subject> {
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'] });
  await jsm.consumers.add('RAW', { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);
  const messages = await (await js.consumers.get('RAW', 'raw')).consume();
  const subject: Subject = {
    name: 'raw @nats-io/jetstream',
    publish: (p) => js.publish('raw.bench', JSON.stringify(p)),
    handled: () => {},
    close: async () => {
      messages.stop();
      await nc.close();
    },
  };
  void (async () => {
    for await (const m of messages) {
      subject.handled(m.json<Payload>());
      m.ack();
    }
  })();
  return subject;
}

/** A Trellis bus subject; `inbox` wraps the handler in a SQLite inbox with an effect row. */
async function trellis(name: string, bus: Bus, keyed: boolean, inbox: boolean): Promise<Subject> {
  const subject: Subject = {
    name,
    publish: (p, key) => bus.publish('bench.e2e', p, keyed ? { key } : {}),
    handled: () => {},
    close: () => bus.close(),
  };
  let handler: MessageHandler<Payload> = (m) => subject.handled(m.payload);
  if (inbox) {
    const db = SqliteDatabase.open(join(dir, `${name.replace(/\W+/g, '-')}.db`));
    await db.execute('CREATE TABLE effects (id TEXT PRIMARY KEY, n INTEGER)');
    const box = await SqliteInbox.create(db);
    handler = withInbox<Payload, Parameters<Parameters<typeof box.run>[2]>[0]>(box, async (m, tx) => {
      await tx.execute('INSERT INTO effects (id, n) VALUES ($1, $2)', [m.id, m.payload.i]);
      subject.handled(m.payload);
    });
    const close = subject.close;
    subject.close = async () => {
      await close();
      await db.close();
    };
  }
  const group = name.replace(/\W+/g, '-');
  await bus.subscribe('bench.*', handler, { group, concurrency: 64 });
  return subject;
}

let streams = 0;
const jetStreamBus = () =>
  JetStreamBus.connect({
    servers: nats.url,
    stream: `BENCH${streams}`,
    subjectPrefix: `bench${streams++}`,
    deadLetters: new InMemoryDeadLetterStore(),
  });
let files = 0;
const sqliteBus = () => SqliteBus.open(join(dir, `bus-${files++}.db`));

const subjects: Subject[] = [
  await rawJetStream(),
  await trellis('Trellis JetStream', await jetStreamBus(), false, false),
  await trellis('Trellis JetStream, keyed', await jetStreamBus(), true, false),
  await trellis('Trellis JetStream + inbox', await jetStreamBus(), false, true),
  await trellis('Trellis SQLite bus', await sqliteBus(), false, false),
  await trellis('Trellis SQLite bus, keyed', await sqliteBus(), true, false),
  await trellis('Trellis SQLite bus + inbox', await sqliteBus(), false, true),
];

const best = new Map<string, Result>();
const steady = new Map<string, { p50: number; p99: number }>();
try {
  for (const s of subjects) await round(s, Math.min(2000, count)); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) {
      const result = await round(s, count);
      const prev = best.get(s.name);
      if (!prev || result.perSecond > prev.perSecond) best.set(s.name, result);
    }
  }
  for (const s of subjects) steady.set(s.name, await paced(s, PACED_RATE, quick ? 1500 : 4000));
} finally {
  for (const s of subjects) await s.close().catch(() => undefined);
  await nats.destroy();
  rmSync(dir, { recursive: true, force: true });
}

const rows: BenchRow[] = subjects.map((s) => {
  const r = best.get(s.name) as Result;
  const l = steady.get(s.name) as { p50: number; p99: number };
  return {
    name: s.name,
    value: r.perSecond,
    unit: 'msgs/s',
    extra: {
      'flood p50 ms': r.p50,
      'flood p99 ms': r.p99,
      [`p50 ms @${PACED_RATE}/s`]: l.p50,
      [`p99 ms @${PACED_RATE}/s`]: l.p99,
    },
  };
});
report('bus', withRatios(rows, 'raw @nats-io/jetstream'), [
  `msgs/s: ${count} messages per round as fast as possible (${WINDOW} publishes in flight), handler concurrency 64, best of ${rounds} interleaved rounds; flood latency is mostly time queued behind the backlog`,
  `latency @${PACED_RATE}/s: publish → handled at a steady ${PACED_RATE} messages/s, below every subject's capacity`,
  'nats-server 2.9 (file storage) from startNats(); SQLite in WAL mode, synchronous=NORMAL, on the local disk',
  'keyed: 64 distinct keys, handled in per-key order (JetStream: 16 key partitions with max_ack_pending 1 each)',
  'inbox: the handler inserts one effect row and the inbox mark in one SQLite transaction (effectively once)',
]);
