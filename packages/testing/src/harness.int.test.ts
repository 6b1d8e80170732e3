import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, serverUrl } from './index.js';

const pgUrl = serverUrl('postgres');
const natsUrl = serverUrl('nats');
const redisUrl = serverUrl('redis');

describe.skipIf(!pgUrl)('harness: PostgreSQL', () => {
  it('answers a query in an isolated database', async () => {
    const url = await createTestDatabase('harness');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE t (n int)');
      await client.query('INSERT INTO t VALUES (1), (2), (3)');
      const { rows } = await client.query<{ sum: string }>('SELECT sum(n) FROM t');
      expect(rows[0]?.sum).toBe('6');
      const who = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(url.endsWith(`/${who.rows[0]?.db}`)).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('keeps databases apart however long the prefix is', async () => {
    const prefix = `a-very-long-test-prefix-${'x'.repeat(60)}`;
    const urls = [await createTestDatabase(prefix), await createTestDatabase(prefix)];
    const names: string[] = [];
    for (const url of urls) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const who = await client.query<{ db: string }>('SELECT current_database() AS db');
        expect(url.endsWith(`/${who.rows[0]?.db}`)).toBe(true);
        names.push(who.rows[0]?.db ?? '');
      } finally {
        await client.end();
      }
    }
    expect(new Set(names).size).toBe(2);
  });
});

describe.skipIf(!natsUrl)('harness: NATS JetStream', () => {
  it('publishes to a stream and consumes with a durable pull consumer', async () => {
    const nc = await connect({ servers: natsUrl! });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `HARNESS_${process.pid}`;
      await jsm.streams.add({ name: stream, subjects: [`harness.${process.pid}.>`] });
      await jsm.consumers.add(stream, { durable_name: 'c1', ack_policy: 'explicit' });
      const js = jetstream(nc);
      for (let i = 0; i < 3; i++) await js.publish(`harness.${process.pid}.msg`, JSON.stringify({ i }));
      const consumer = await js.consumers.get(stream, 'c1');
      const got: number[] = [];
      const batch = await consumer.fetch({ max_messages: 3, expires: 2000 });
      for await (const m of batch) {
        got.push((m.json() as { i: number }).i);
        m.ack();
      }
      expect(got).toEqual([0, 1, 2]);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
  });
});

describe.skipIf(!redisUrl)('harness: Redis', () => {
  it('INCR counts atomically', async () => {
    const redis = new Redis(redisUrl!);
    try {
      const key = `harness:${process.pid}:${Date.now()}`;
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => redis.incr(key)));
      expect(results.sort()).toEqual([1, 2, 3, 4, 5]);
      expect(await redis.get(key)).toBe('5');
    } finally {
      redis.disconnect();
    }
  });
});
