/**
 * Everything a running shop leaves behind, captured for the secrets test: the internal tokens
 * that really travel between processes (a TCP tap in front of every service instance reads
 * them off the wire), every file in the data directory byte for byte (logs, SQLite files with
 * their WAL, the SQLite bus, topology), every row of every table of every database, the keys
 * and values in Redis, and anything else a test adds (answers, traces). Each piece is kept
 * with where it came from, so a leak is reported with its place.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join, relative } from 'node:path';
import type { SqlDatabase } from '@trellis/core';
import { serverBinary } from '@trellis/testing';
import type { Topology } from '../supervisor/topology.js';

/** One captured piece of evidence. */
export interface Evidence {
  /** `log gateway.log`, `table orders.trellis_events`, `answer POST /api/auth/login`… */
  where: string;
  text: string;
}

const TOKEN_HEADER = /\r\n(x-trellis-identity|authorization):[ \t]*(?:bearer[ \t]+)?([^\r\n]+)/gi;

/**
 * A TCP proxy in front of one service instance that forwards everything unchanged and keeps
 * the credential headers of the requests passing through (`X-Trellis-Identity`,
 * `Authorization`): the internal tokens the gateway and the services really issued.
 */
export class TokenTap {
  readonly tokens = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and forwards to `targetPort`. */
  static async start(targetPort: number): Promise<TokenTap> {
    let tap: TokenTap | undefined;
    const server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: targetPort });
      for (const s of [client, upstream]) {
        tap?.sockets.add(s);
        s.on('close', () => tap?.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      // A header split across two chunks is found in the tail of the first plus the second.
      let tail = '';
      client.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1');
        for (const m of text.matchAll(TOKEN_HEADER)) if (m[2]) tap?.tokens.add(m[2].trim());
        tail = text.slice(-8192);
      });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    tap = new TokenTap(server, typeof address === 'object' && address ? address.port : 0);
    return tap;
  }

  /** Stops listening and cuts the connections still open. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Puts a {@link TokenTap} in front of every service instance (for `startShop`'s
 * `adaptTopology`): the instance still listens on its port; everyone reaches it through the tap.
 */
export async function tapEveryInstance(topology: Topology, taps: TokenTap[]): Promise<Topology> {
  const instances = [];
  for (const i of topology.instances) {
    const tap = await TokenTap.start(i.port);
    taps.push(tap);
    instances.push({ ...i, url: `http://127.0.0.1:${tap.port}` });
  }
  return { ...topology, instances };
}

/** Every file under `dir` (recursively) except those `skip` names, as raw text. */
export function filesUnder(
  dir: string,
  label: string,
  skip: (path: string) => boolean = () => false,
): Evidence[] {
  const out: Evidence[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && !skip(path)) {
        // latin1 keeps every byte: a secret stored in any encoding of ASCII is still found.
        out.push({ where: `${label} ${relative(dir, path)}`, text: readFileSync(path).toString('latin1') });
      }
    }
  };
  walk(dir);
  return out;
}

async function tablesOf(db: SqlDatabase): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      : await db.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
        );
  return rows.map((r) => r.name);
}

/** Every row of every table of every database, one evidence per table (BLOBs as text too). */
export async function tableContents(dbs: Record<string, SqlDatabase>): Promise<Evidence[]> {
  const out: Evidence[] = [];
  for (const [name, db] of Object.entries(dbs)) {
    for (const table of await tablesOf(db)) {
      const quoted = `"${table.replace(/"/g, '""')}"`;
      const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${quoted}`);
      const text = rows
        .map((r) =>
          JSON.stringify(r, (_k, v: unknown) =>
            Buffer.isBuffer(v) || v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
          ),
        )
        .join('\n');
      out.push({ where: `table ${name}.${table}`, text });
    }
  }
  return out;
}

/** Every key in a Redis server and its value (strings, hashes, sorted sets), through redis-cli. */
export function redisContents(url: string): Evidence[] {
  const server = serverBinary('redis');
  const cli = server ? join(dirname(server), 'redis-cli') : 'redis-cli';
  const run = (...args: string[]) => {
    const r = spawnSync(cli, ['-u', url, '--raw', ...args], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.error ?? r.stderr}`);
    return r.stdout;
  };
  const out: Evidence[] = [];
  for (const key of run('--scan').split('\n').filter(Boolean)) {
    const type = run('TYPE', key).trim();
    const value =
      type === 'hash'
        ? run('HGETALL', key)
        : type === 'string'
          ? run('GET', key)
          : type === 'zset'
            ? run('ZRANGE', key, '0', '-1', 'WITHSCORES')
            : type === 'list'
              ? run('LRANGE', key, '0', '-1')
              : type === 'set'
                ? run('SMEMBERS', key)
                : '';
    out.push({ where: `redis ${type} ${key}`, text: `${key}\n${value}` });
  }
  return out;
}
