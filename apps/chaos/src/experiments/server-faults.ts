/**
 * Faults of the servers under the shop, which the harness started itself: PostgreSQL killed
 * with SIGKILL (no checkpoint, crash recovery from the WAL on restart — commits are durable),
 * NATS JetStream killed (its file store survives), Redis killed (its rate-limit counters do
 * not, by design), and PostgreSQL hung with SIGSTOP (connections open, nothing answered).
 * Each is restarted on the same port and data directory after the hold.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ServerHandle } from '@trellis/testing';
import type { ChaosServers } from '../chaos-shop.js';
import { ChaosFaultError } from '../errors.js';
import type { Check, Experiment, ExperimentContext } from '../experiment.js';
import { postmasterPid, processState, processTree, signalAll } from '../process-tree.js';

/**
 * Every process of a PostgreSQL server (the postmaster and its backends): a crash or a hang of
 * the machine takes them all, where signalling the postmaster alone leaves backends answering.
 */
function postgresProcesses(handle: ServerHandle, name: string): number[] {
  const pid = postmasterPid(join(handle.dir, 'data'));
  if (!pid) throw new ChaosFaultError(name, `no postmaster.pid in ${handle.dir}/data`);
  return processTree(pid);
}

function server(ctx: ExperimentContext, kind: keyof ChaosServers, name: string): ServerHandle {
  const servers = ctx.shop.servers;
  if (!servers) throw new ChaosFaultError(name, 'the servers are not the harness’s (embedded mode)');
  return servers[kind];
}

/** What connecting to `port` on loopback gives now: `accepted`, or the error code (`ECONNREFUSED`). */
function tryConnect(port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done('no answer'));
    socket.once('connect', () => done('accepted'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

const roles: Record<keyof ChaosServers, string> = {
  postgres: 'every service’s database: events, sagas, outboxes, inboxes, stock, charges',
  nats: 'the bus (JetStream): order events to the read model and notifications',
  redis: 'the gateway’s rate-limit counters',
};

/** SIGKILL of a server, restarted after the hold. */
export function killServerExperiment(kind: keyof ChaosServers, holdMs: number): Experiment {
  const name = `kill-${kind}`;
  return {
    name,
    category: 'server',
    fault: `SIGKILL ${kind}, restarted after the hold (${roles[kind]})`,
    hypothesis: `while ${kind} is down the shop fails fast or waits, and once it is back every accepted order settles with nothing lost or doubled`,
    requires: { distributed: true },
    holdMs,
    recoverFrom: 'removal',
    // Events wait in the outboxes and rate limits are decided locally: orders must not stop.
    servesThroughout: kind !== 'postgres',
    async inject(ctx) {
      const handle = server(ctx, kind, name);
      const all = kind === 'postgres' ? postgresProcesses(handle, name) : [];
      signalAll(all, 'SIGKILL');
      await handle.kill();
      ctx.log(`SIGKILL ${kind} on port ${handle.port}${all.length ? ` (${all.length} processes)` : ''}`);
      return {
        detail: `${kind} :${handle.port}`,
        observe: async (): Promise<Check[]> => {
          const outcome = await tryConnect(handle.port);
          return [
            {
              name: 'server down',
              ok: outcome === 'ECONNREFUSED',
              detail: `connecting to ${kind} :${handle.port}: ${outcome}`,
            },
          ];
        },
        remove: async () => {
          await handle.restart();
          ctx.log(`${kind} restarted on port ${handle.port}`);
        },
      };
    },
  };
}

/** SIGSTOP of PostgreSQL for the hold, then SIGCONT. */
export const hangPostgres: Experiment = {
  name: 'hang-postgres',
  category: 'server',
  fault: 'SIGSTOP PostgreSQL (connections stay open, nothing answers), SIGCONT after the hold',
  hypothesis:
    'a database that stops answering makes the shop wait or fail fast, not corrupt anything; when it wakes up everything settles',
  requires: { distributed: true },
  holdMs: 6000,
  recoverFrom: 'removal',
  async inject(ctx) {
    const handle = server(ctx, 'postgres', 'hang-postgres');
    const all = postgresProcesses(handle, 'hang-postgres');
    signalAll(all, 'SIGSTOP');
    ctx.log(`SIGSTOP postgres (${all.length} processes)`);
    return {
      detail: `postgres :${handle.port} stopped (${all.length} processes)`,
      observe: async (): Promise<Check[]> => {
        const states = all.map(processState).filter((s) => s !== '?');
        const stopped = states.filter((s) => s === 'T').length;
        return [
          {
            name: 'server hung',
            ok: stopped > 0 && stopped === states.length,
            detail: `${stopped} of ${states.length} PostgreSQL processes stopped (state T)`,
          },
        ];
      },
      remove: async () => {
        // Backends forked while stopping are caught by a second look.
        signalAll([...new Set([...all, ...postgresProcesses(handle, 'hang-postgres')])], 'SIGCONT');
        ctx.log('SIGCONT postgres');
      },
    };
  },
};
