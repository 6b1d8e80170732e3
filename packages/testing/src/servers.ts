import { inject } from 'vitest';
import { INSTALL_HINT, type ServerKind } from './binaries.js';
import { createDatabase } from './postgres.js';

/**
 * The URL of the shared throwaway server of this kind, or undefined when it is not installed
 * locally (in CI the run has already failed loudly). Use with `describe.skipIf(!url)`.
 */
export function serverUrl(kind: ServerKind): string | undefined {
  const url = inject(`trellis.${kind}`);
  if (!url) console.warn(`[trellis/testing] skipping ${kind} tests; install with: ${INSTALL_HINT[kind]}`);
  return url;
}

/**
 * Creates an empty database in the shared PostgreSQL and returns its URL, so each test file
 * (or test) works in isolation while sharing one server.
 */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const admin = inject('trellis.postgres');
  if (!admin) throw new Error(`PostgreSQL is not available; install with: ${INSTALL_HINT.postgres}`);
  return createDatabase(admin, prefix);
}
