import pg from 'pg';
import { inject } from 'vitest';
import { INSTALL_HINT, type ServerKind } from './binaries.js';

/**
 * The URL of the shared throwaway server of this kind, or undefined when it is not installed
 * locally (in CI the run has already failed loudly). Use with `describe.skipIf(!url)`.
 */
export function serverUrl(kind: ServerKind): string | undefined {
  const url = inject(`trellis.${kind}`);
  if (!url) console.warn(`[trellis/testing] skipping ${kind} tests; install with: ${INSTALL_HINT[kind]}`);
  return url;
}

let dbSeq = 0;

/**
 * Creates an empty database in the shared PostgreSQL and returns its URL, so each test file
 * (or test) works in isolation while sharing one server.
 */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const admin = inject('trellis.postgres');
  if (!admin) throw new Error(`PostgreSQL is not available; install with: ${INSTALL_HINT.postgres}`);
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Date.now()}_${dbSeq++}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
