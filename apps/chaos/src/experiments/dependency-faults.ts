/**
 * The external dependency failing: the card processor simulator (behind payments' timeout and
 * circuit breaker) errors on every call, or answers slower than payments' 3 s timeout, for the
 * hold. The breaker must open while it fails — payments then refuses at once and orders are
 * compensated fast instead of piling up — and close again by itself once the processor is
 * healthy, through its half-open probes. Both are read from the ops API, as an operator would.
 */
import type { Check, Experiment, ExperimentContext, FaultTimes } from '../experiment.js';
import { waitFor } from '../experiment.js';
import type { BreakerState, ProcessorSettings } from '../shop-admin.js';

const BREAKER = 'card-processor';

async function processorBreakers(ctx: ExperimentContext): Promise<BreakerState[]> {
  return (await ctx.admin.breakers()).filter((b) => b.name === BREAKER);
}

const summary = (bs: readonly BreakerState[]) =>
  bs.map((b) => `${b.instance} ${b.state}`).join(', ') || 'none';

function processorExperiment(name: string, settings: ProcessorSettings, fault: string): Experiment {
  return {
    name,
    category: 'dependency',
    fault,
    hypothesis:
      'the card-processor breaker opens while the processor fails (orders are compensated at once, none charged), and closes again by itself when it recovers',
    holdMs: 10_000,
    recoverFrom: 'removal',
    // Compensating fast is the degraded mode here: recovered means orders complete again.
    recoveredWhen: 'completed',
    async inject(ctx) {
      const injectedAt = Date.now();
      await ctx.admin.setProcessor(settings);
      ctx.log(`card processor: ${JSON.stringify(settings)}`);
      return {
        detail: JSON.stringify(settings),
        observe: async (): Promise<Check[]> => {
          // The aggregator polls every 2–3 s; the breaker needs 5 failures first.
          const open = await waitFor(async () => {
            const bs = await processorBreakers(ctx);
            return bs.some((b) => b.transitions.some((t) => t.to === 'OPEN' && t.at >= injectedAt))
              ? bs
              : undefined;
          }, 8000);
          return [
            {
              name: 'breaker opened',
              ok: open !== undefined,
              detail: open ? `opened: ${summary(open)}` : 'no OPEN transition seen through the ops API',
            },
          ];
        },
        remove: async () => {
          await ctx.admin.setProcessor({ errorRate: 0, latencyMs: 0, jitterMs: 0 });
          ctx.log('card processor healthy again');
        },
      };
    },
    async verify(ctx, times: FaultTimes): Promise<Check[]> {
      // Half-open probes need traffic and the 5 s open timeout: give it a while under the load.
      const closed = await waitFor(async () => {
        const bs = await processorBreakers(ctx);
        return bs.length > 0 &&
          bs.every(
            (b) =>
              b.state === 'CLOSED' &&
              b.transitions.some((t) => t.to === 'CLOSED' && t.at >= times.injectedAt),
          )
          ? bs
          : undefined;
      }, 30_000);
      const now = closed ?? (await processorBreakers(ctx).catch(() => []));
      return [
        {
          name: 'breaker closed again',
          ok: closed !== undefined,
          detail: closed ? `closed: ${summary(closed)}` : `still ${summary(now)}`,
        },
      ];
    },
  };
}

/** The processor erroring on every call for the hold. */
export const processorOutage = processorExperiment(
  'processor-outage',
  { errorRate: 1 },
  'card processor fails every call (errorRate 1) for the hold',
);

/** The processor answering after 4 s (payments times out at 3 s) for the hold. */
export const processorSlow = processorExperiment(
  'processor-slow',
  { latencyMs: 4000 },
  'card processor answers after 4 s (payments times out at 3 s) for the hold',
);
