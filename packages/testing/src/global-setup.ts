import type { TestProject } from 'vitest/node';
import { INSTALL_HINT, type ServerKind, serverBinary } from './binaries.js';
import { startNats } from './nats.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';
import type { ServerHandle } from './server-handle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    'trellis.postgres': string | undefined;
    'trellis.nats': string | undefined;
    'trellis.redis': string | undefined;
  }
}

const starters: Record<ServerKind, () => Promise<ServerHandle>> = {
  postgres: () => startPostgres(),
  nats: startNats,
  redis: startRedis,
};

/**
 * Vitest global setup: starts one throwaway PostgreSQL, NATS (JetStream) and Redis on free
 * loopback ports, hands their URLs to tests through `inject`, and deletes them afterwards,
 * also when tests fail. With `CI=true` a missing server binary fails the whole run; locally
 * it only skips the tests that need it, naming the install command.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const started: ServerHandle[] = [];
  const kinds = Object.keys(starters) as ServerKind[];
  const results = await Promise.allSettled(
    kinds.map(async (kind) => {
      if (!serverBinary(kind)) {
        const msg = `${kind} binary not found; install with: ${INSTALL_HINT[kind]}`;
        if (ci) throw new Error(`CI=true and ${msg}`);
        console.warn(`[trellis/testing] ${msg}. Tests that need ${kind} are skipped.`);
        project.provide(`trellis.${kind}`, undefined);
        return;
      }
      const handle = await starters[kind]();
      started.push(handle);
      project.provide(`trellis.${kind}`, handle.url);
    }),
  );
  const teardown = async () => {
    await Promise.allSettled(started.map((h) => h.destroy()));
  };
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0) {
    await teardown();
    throw new Error(
      failed.map((f) => String(f.reason instanceof Error ? f.reason.message : f.reason)).join('\n'),
    );
  }
  return teardown;
}
