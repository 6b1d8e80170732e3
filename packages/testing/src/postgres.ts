import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { INSTALL_HINT, serverBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { makeHandle, type ServerHandle, waitUntil } from './server-handle.js';

/** Options for a throwaway PostgreSQL. */
export interface PostgresOptions {
  /**
   * Durable commits (fsync on). Off by default because tests want speed, not crash safety of
   * the machine; benchmarks and crash tests turn it on to measure the real thing.
   */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/** A running PostgreSQL plus a helper to create isolated databases in it. */
export interface PostgresHandle extends ServerHandle {
  /** Creates a fresh database and returns its URL (one per test file keeps files isolated). */
  createDatabase(prefix?: string): Promise<string>;
}

/** The unprivileged OS user PostgreSQL runs as: it refuses to run as root. */
export const PG_OS_USER = 'trellis-pg';

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', PG_OS_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PG_OS_USER]);
  }
  const uid = Number(execFileSync('id', ['-u', PG_OS_USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', PG_OS_USER]).toString().trim());
  return { uid, gid };
}

/**
 * Starts PostgreSQL from the machine's binaries: `initdb` into a temp directory, then
 * `postgres` on a free loopback port, as an unprivileged user when running as root.
 *
 * Throws when the binaries are missing (with the install command) or start-up fails (with the log).
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresHandle> {
  const postgres = serverBinary('postgres');
  if (!postgres) throw new Error(`PostgreSQL server binaries not found. Install: ${INSTALL_HINT.postgres}`);
  const bin = dirname(postgres);
  const user = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pg-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  chmodSync(dir, 0o755);
  chmodSync(data, 0o700);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(data, user.uid, user.gid);
  }
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { stdio: 'pipe', ...(user ?? {}) },
  );
  const port = await freePort();
  const durable = options.durable ?? false;
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: 300,
    fsync: durable ? 'on' : 'off',
    synchronous_commit: durable ? 'on' : 'off',
    full_page_writes: durable ? 'on' : 'off',
    ...options.settings,
  };
  const args = ['-D', data, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const proc = new ManagedProcess({
    name: 'postgres',
    command: postgres,
    args,
    logFile: join(dir, 'postgres.log'),
    ...(user ? { user } : {}),
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = () =>
    waitUntil(
      'PostgreSQL',
      async () => {
        const client = new pg.Client({ connectionString: url });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => {});
        }
      },
      proc,
    );
  proc.start();
  await ready();
  const handle = makeHandle('postgres', url, port, dir, proc, ready);
  return { ...handle, createDatabase: (prefix = 'test') => createDatabase(url, prefix) };
}

let dbSeq = 0;

/**
 * Creates an empty database on the server of `adminUrl`, named after `prefix` and unique in
 * this run, and returns its URL. The prefix is cut to 30 characters: PostgreSQL truncates
 * names beyond 63 bytes, which would cut off the unique suffix (two databases of one long
 * prefix then collide) and leave a URL that names something else.
 */
export async function createDatabase(adminUrl: string, prefix: string): Promise<string> {
  const safe = prefix
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 30);
  const name = `${safe}_${process.pid}_${Date.now()}_${dbSeq++}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
