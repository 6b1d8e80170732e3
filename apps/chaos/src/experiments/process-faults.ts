/**
 * Faults of the shop's own processes: SIGKILL (a crash — no shutdown hooks, no flushed
 * outbox, requests cut mid-flight; the supervisor restarts the process) and SIGSTOP/SIGCONT (a
 * hung process: it keeps its sockets and leases but answers nothing, then wakes up and carries
 * on as if no time had passed — the nastier case, because its view of the world is stale).
 */
import type { ShopProcess } from '../chaos-shop.js';
import { ChaosFaultError } from '../errors.js';
import { type Check, type Experiment, type ExperimentContext, waitFor } from '../experiment.js';
import { processState } from '../process-tree.js';

const slug = (id: string) => id.replace('#', '-');

/** Waits until `p` was restarted (more restarts than `before`) and is ready again. */
async function restarted(name: string, p: ShopProcess, before: number, timeoutMs = 90_000): Promise<void> {
  const back = await waitFor(() => (p.restarts > before && p.ready ? true : undefined), timeoutMs, 100);
  if (!back) throw new ChaosFaultError(name, `${p.spec.id} was not back within ${timeoutMs / 1000} s`);
}

function kill(name: string, ctx: ExperimentContext, p: ShopProcess) {
  const pid = p.pid;
  const before = p.restarts;
  if (!p.running || pid === undefined) throw new ChaosFaultError(name, `${p.spec.id} is not running`);
  p.signal('SIGKILL');
  ctx.log(`SIGKILL ${p.spec.id} (pid ${pid})`);
  return {
    detail: `${p.spec.id} pid ${pid}`,
    remove: () => restarted(name, p, before),
    pid,
  };
}

/** SIGKILL of one process; the supervisor brings it back. */
export function killExperiment(id: string, role: string): Experiment {
  const name = `kill-${slug(id)}`;
  return {
    name,
    category: 'process',
    fault: `SIGKILL ${id} (${role})`,
    hypothesis: `${id} crashing mid-request loses no order, charges nobody twice, and the shop serves again once the supervisor has restarted it`,
    ...(id.includes('#') ? { requires: { distributed: true, process: id } } : {}),
    holdMs: 0,
    recoverFrom: 'injection',
    async inject(ctx) {
      return kill(name, ctx, ctx.shop.process(id));
    },
    async verify(ctx) {
      const p = ctx.shop.process(id);
      return [{ name: 'restarted', ok: p.ready && p.restarts > 0, detail: `${id} restarts: ${p.restarts}` }];
    },
  };
}

/** SIGKILL of a process picked at random when the experiment runs. */
export const killRandom: Experiment = {
  name: 'kill-random',
  category: 'process',
  fault: 'SIGKILL of a random process (any service replica or the gateway)',
  hypothesis: 'whichever process dies, the shop loses nothing and comes back',
  holdMs: 0,
  recoverFrom: 'injection',
  async inject(ctx) {
    const all = ctx.shop.processes();
    const p = all[Math.floor(Math.random() * all.length)] as ShopProcess;
    return kill('kill-random', ctx, p);
  },
};

/** SIGSTOP for the hold, then SIGCONT: a hung process, not a dead one. */
export function hangExperiment(id: string, role: string): Experiment {
  const name = `hang-${slug(id)}`;
  let pid: number | undefined;
  return {
    name,
    category: 'hang',
    fault: `SIGSTOP ${id} (${role}), SIGCONT after the hold`,
    hypothesis: `a hung ${id} is routed around or waited out; when it wakes up its stale work is fenced or idempotent, and nothing is lost or doubled`,
    ...(id.includes('#') ? { requires: { distributed: true, process: id } } : {}),
    holdMs: 8000,
    recoverFrom: 'removal',
    async inject(ctx) {
      const p = ctx.shop.process(id);
      pid = p.pid;
      if (!p.running || pid === undefined) throw new ChaosFaultError(name, `${id} is not running`);
      p.signal('SIGSTOP');
      ctx.log(`SIGSTOP ${id} (pid ${pid})`);
      return {
        detail: `${id} pid ${pid} stopped`,
        observe: async (): Promise<Check[]> => {
          const state = processState(pid as number);
          return [{ name: 'stopped', ok: state === 'T', detail: `${id} process state ${state}` }];
        },
        remove: async () => {
          p.signal('SIGCONT');
          ctx.log(`SIGCONT ${id}`);
          await waitFor(() => (p.ready ? true : undefined), 60_000, 100);
        },
      };
    },
    async verify(ctx) {
      const p = ctx.shop.process(id);
      return [
        {
          name: 'same process',
          ok: p.pid === pid,
          detail: p.pid === pid ? `${id} woke up as pid ${pid}` : `${id} was replaced (pid ${p.pid})`,
        },
      ];
    },
  };
}
