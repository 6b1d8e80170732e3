/**
 * The `npm start` demo until the reference shop exists: a client calls a flaky inventory
 * service over real HTTP through a circuit breaker and a timeout, and prints every call and
 * every breaker transition as the service fails and recovers. Runs about 10 s and stops.
 */
import {
  CircuitBreaker,
  type CircuitBreakerMetrics,
  isCircuitBreakerOpenError,
  isTimeoutError,
  type StateChangeEvent,
  timeout,
  wrap,
} from '@trellis/resilience';
import { type Phase, startFlakyService } from './flaky-service.js';

/** Knobs for the demo (tests run it faster). */
export interface DemoOptions {
  /** Multiplies every duration of the timeline and the policies. Default 1 (≈10 s). */
  timeScale?: number;
  /** Where lines go. Default `console.log`. */
  print?: (line: string) => void;
  /** Colour the output. Default: when stdout is a terminal. */
  color?: boolean;
}

/** What happened, for the summary and for tests. */
export interface DemoResult {
  transitions: StateChangeEvent[];
  outcomes: { ok: number; failed: number; rejected: number };
  /** Requests that reached the service (fast rejections never do). */
  received: number;
  metrics: CircuitBreakerMetrics;
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** Runs the demo; resolves when it has finished and cleaned up. */
export async function runResilienceDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const scale = options.timeScale ?? 1;
  const print = options.print ?? ((line: string) => console.log(line));
  const useColor = options.color ?? process.stdout.isTTY === true;
  const paint = (code: number, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
  const ms = (n: number) => Math.round(n * scale);

  const timeline: Phase[] = [
    { from: 0, health: 'healthy' },
    { from: ms(1800), health: 'failing' },
    { from: ms(3600), health: 'hanging' },
    { from: ms(5600), health: 'healthy' },
  ];
  const service = await startFlakyService(timeline, Math.max(2, ms(15)));
  const breaker = new CircuitBreaker({
    name: 'inventory',
    failureThreshold: 3,
    successThreshold: 2,
    timeout: ms(1200),
    probeTimeout: ms(600),
  });
  const policy = wrap(breaker, timeout(ms(300)));
  const started = Date.now();
  const at = () => paint(90, `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7));
  const transitions: StateChangeEvent[] = [];
  const outcomes = { ok: 0, failed: 0, rejected: 0 };
  const stateColor = { CLOSED: 32, OPEN: 31, HALF_OPEN: 33 } as const;

  breaker.onStateChange((e) => {
    transitions.push(e);
    const arrow = `${paint(stateColor[e.from], e.from)} → ${paint(stateColor[e.to], e.to)}`;
    print(`${at()}  ${paint(1, '══ breaker')} ${arrow}  ${paint(90, `(${e.reason})`)}`);
  });

  print(
    paint(1, 'Trellis resilience demo: a client calls a flaky inventory service through a circuit breaker'),
  );
  print(
    paint(
      90,
      `  service ${service.url}: healthy → failing (503) at ${ms(1800)} ms → hanging at ${ms(3600)} ms → healthy at ${ms(5600)} ms`,
    ),
  );
  print(
    paint(
      90,
      `  breaker: open after 3 failures in a row, probe after ${ms(1200)} ms, close after 2 good probes; timeout ${ms(300)} ms per call\n`,
    ),
  );

  const end = started + ms(9500);
  while (Date.now() < end) {
    const t0 = performance.now();
    try {
      const body = await policy.execute(async (signal) => {
        const res = await fetch(`${service.url}/stock/TRELLIS-1`, { signal });
        if (!res.ok) {
          await res.body?.cancel();
          throw new HttpStatusError(res.status);
        }
        return (await res.json()) as { inStock: number };
      });
      outcomes.ok++;
      const took = (performance.now() - t0).toFixed(0);
      print(`${at()}  ${paint(32, '✓ ok      ')} ${body.inStock} in stock ${paint(90, `(${took} ms)`)}`);
    } catch (error) {
      const took = performance.now() - t0;
      if (isCircuitBreakerOpenError(error)) {
        outcomes.rejected++;
        const wait = error.retryAfterMs > 0 ? `, next probe in ${error.retryAfterMs} ms` : '';
        print(
          `${at()}  ${paint(33, '⊘ rejected')} fast by the ${error.state} breaker ${paint(90, `(${took.toFixed(2)} ms${wait})`)}`,
        );
      } else {
        outcomes.failed++;
        const why = isTimeoutError(error)
          ? `timed out after ${error.timeoutMs} ms`
          : (error as Error).message;
        print(`${at()}  ${paint(31, '✗ failed  ')} ${why} ${paint(90, `(${took.toFixed(0)} ms)`)}`);
      }
    }
    await new Promise((r) => setTimeout(r, ms(250)));
  }

  const metrics = breaker.metrics;
  const received = service.received();
  await service.close();
  breaker.dispose();
  print('');
  print(
    paint(
      1,
      `Done: ${outcomes.ok} ok, ${outcomes.failed} failed, ${outcomes.rejected} rejected fast (never sent: the service received ${received} requests).`,
    ),
  );
  print(
    paint(
      90,
      `Breaker counters: ${metrics.successes} successes, ${metrics.failures} failures, ${metrics.rejections} rejections, ${metrics.stateChanges} state changes; now ${metrics.state}.`,
    ),
  );
  return { transitions, outcomes, received, metrics };
}
