/**
 * Clock skew between services, made honest: one orders replica is restarted with
 * `SHOP_CLOCK_OFFSET_MS`, which shifts the `Clock` everything in that process reads — saga
 * leases and their expiry, token checks and its own tokens, idempotency claims, event
 * timestamps — while its peers keep the machine's time. (The machine clock itself is shared by
 * every process here, so skewing the process clock is the only real way to skew one service.)
 * After the hold it is restarted on true time again.
 *
 * Ahead by more than a third of the 30 s saga lease, the skewed replica sees its peer's leases as
 * expired and takes over sagas the peer is still driving; behind, its own leases look expired to
 * the peer. Fencing and idempotency keys must keep every step's effect single.
 */
import { ChaosFaultError } from '../errors.js';
import { type Check, type Experiment, type ExperimentContext, waitFor } from '../experiment.js';

const VARIABLE = 'SHOP_CLOCK_OFFSET_MS';

/** Restarts process `id` gracefully with `offsetMs` (or none) and waits until it is ready. */
async function restartWith(ctx: ExperimentContext, name: string, id: string, offsetMs: number | undefined) {
  const p = ctx.shop.process(id);
  // The supervisor spawns from this spec on every restart.
  if (offsetMs === undefined) delete p.spec.env[VARIABLE];
  else p.spec.env[VARIABLE] = String(offsetMs);
  const before = p.restarts;
  p.signal('SIGTERM');
  const back = await waitFor(() => (p.restarts > before && p.ready ? true : undefined), 90_000, 100);
  if (!back) throw new ChaosFaultError(name, `${id} did not come back after the restart`);
}

/** The newest order events, as the ops API lists them. */
async function newestEventTimes(ctx: ExperimentContext): Promise<number[]> {
  const body = await ctx.admin.call<{ items: Array<{ timestamp: string }> }>(
    'GET',
    '/api/ops/events?service=orders&limit=200',
  );
  return body.items.map((e) => Date.parse(e.timestamp));
}

/** `id` runs `offsetMs` off true time for the hold. */
export function clockSkewExperiment(id: string, offsetMs: number): Experiment {
  const name = `clock-skew-${offsetMs > 0 ? 'ahead' : 'behind'}`;
  const seconds = Math.abs(offsetMs) / 1000;
  return {
    name,
    category: 'clock',
    fault: `${id} restarted with its clock ${seconds} s ${offsetMs > 0 ? 'ahead' : 'behind'} (${VARIABLE}), true time again after the hold`,
    hypothesis: `with ${id} ${seconds} s ${offsetMs > 0 ? 'ahead' : 'behind'}, replicas may take over each other's sagas early, but fencing and idempotency keys keep every effect single`,
    requires: { distributed: true, process: id },
    holdMs: 12_000,
    recoverFrom: 'removal',
    async inject(ctx) {
      await restartWith(ctx, name, id, offsetMs);
      ctx.log(`${id} runs ${offsetMs} ms off`);
      return {
        detail: `${id} ${VARIABLE}=${offsetMs}`,
        observe: async (): Promise<Check[]> => {
          // Events of both replicas interleave in the log: their timestamps now disagree by the skew.
          const times = await newestEventTimes(ctx).catch(() => []);
          const spread = times.length > 1 ? Math.max(...times) - Math.min(...times) : 0;
          return [
            {
              name: 'skew in effect',
              ok: spread >= Math.abs(offsetMs) * 0.6,
              detail: `the ${times.length} newest events' timestamps span ${(spread / 1000).toFixed(1)} s`,
            },
          ];
        },
        remove: () => restartWith(ctx, name, id, undefined),
      };
    },
  };
}
