/**
 * The servers of distributed mode: PostgreSQL (one database per service), NATS JetStream and
 * Redis. Existing servers are used when `DATABASE_URL`, `NATS_URL` and `REDIS_URL` are set;
 * otherwise throwaway ones are started from the machine's binaries (the same harness the
 * tests use), PostgreSQL with durable commits.
 */
import { type ServerHandle, startNats, startPostgres, startRedis } from '@trellis/testing';
import pg from 'pg';
import { ASSISTANT, BACKEND_SERVICES, type BackendService } from '../registry.js';
import type { Infrastructure } from './topology.js';

/** Running infrastructure and how to stop what was started here. */
export interface ProvidedInfrastructure {
  infrastructure: Infrastructure;
  /** Human-readable origin of each server, for the banner. */
  origin: { postgres: string; nats: string; redis: string };
  /** Stops the servers this call started (never ones given by URL). */
  stop(): Promise<void>;
}

/** Creates `name` on the server of `adminUrl` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created concurrently
      });
    }
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Provides PostgreSQL, NATS and Redis.
 *
 * @example
 * ```ts
 * const infra = await provideInfrastructure({ env: process.env, databasePrefix: 'shop' });
 * // … run the shop on infra.infrastructure …
 * await infra.stop();
 * ```
 */
export async function provideInfrastructure(options: {
  env?: NodeJS.ProcessEnv;
  /** Databases are named `<prefix>_<service>`. Default `shop`. */
  databasePrefix?: string;
}): Promise<ProvidedInfrastructure> {
  const env = options.env ?? process.env;
  const started: ServerHandle[] = [];
  const track = (handle: ServerHandle) => {
    started.push(handle);
    return handle;
  };
  try {
    const [postgres, nats, redis] = await Promise.all([
      env.DATABASE_URL ? undefined : startPostgres({ durable: true }).then(track),
      env.NATS_URL ? undefined : startNats().then(track),
      env.REDIS_URL ? undefined : startRedis().then(track),
    ]);
    const adminUrl = env.DATABASE_URL ?? (postgres as ServerHandle).url;
    const prefix = (options.databasePrefix ?? 'shop').replace(/[^a-z0-9_]/gi, '_').toLowerCase();
    const databases = {} as Record<BackendService, string>;
    for (const service of BACKEND_SERVICES)
      databases[service] = await ensureDatabase(adminUrl, `${prefix}_${service}`);
    const assistantDatabase = await ensureDatabase(adminUrl, `${prefix}_${ASSISTANT}`);
    return {
      infrastructure: {
        databases,
        assistantDatabase,
        natsUrl: env.NATS_URL ?? (nats as ServerHandle).url,
        redisUrl: env.REDIS_URL ?? (redis as ServerHandle).url,
      },
      origin: {
        postgres: postgres
          ? `started ${postgres.url} (data ${postgres.dir})`
          : `DATABASE_URL ${redact(adminUrl)}`,
        nats: nats ? `started ${nats.url}` : `NATS_URL ${env.NATS_URL}`,
        redis: redis ? `started ${redis.url}` : `REDIS_URL ${redact(env.REDIS_URL ?? '')}`,
      },
      stop: async () => {
        await Promise.allSettled(started.map((h) => h.destroy()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((h) => h.destroy()));
    throw error;
  }
}

/** Hides a password in a URL. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
