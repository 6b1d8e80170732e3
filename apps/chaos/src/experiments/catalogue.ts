/**
 * Every experiment, in the order a full run takes them, and the named selections: `all`, each
 * category, and `ci` — the bounded set CI runs on every change (one of each kind of fault that
 * matters most, a few minutes on two cores).
 */
import type { Experiment } from '../experiment.js';
import { clockSkewExperiment } from './clock-skew.js';
import { processorOutage, processorSlow } from './dependency-faults.js';
import { partitionExperiment, proxyExperiment } from './network-faults.js';
import { hangExperiment, killExperiment, killRandom } from './process-faults.js';
import { hangPostgres, killServerExperiment } from './server-faults.js';

/** The experiments, in run order. */
export const EXPERIMENTS: readonly Experiment[] = [
  killExperiment('orders', 'replica 0: takes orders, drives sagas, relays the outbox'),
  killExperiment('orders#1', 'replica 1, in its network namespace'),
  killExperiment('gateway', 'every request enters here'),
  killExperiment('payments', 'mid-charge'),
  killExperiment('inventory', 'mid-reservation'),
  killExperiment('shipping', 'mid-shipment'),
  killExperiment('catalog', 'prices every new order'),
  killExperiment('users', 'sign-up and log-in'),
  killExperiment('notifications', 'a consumer group on the bus'),
  killExperiment('assistant', 'the AI assistant'),
  killRandom,
  hangExperiment('orders', 'replica 0, holding saga leases'),
  hangExperiment('payments', 'mid-charge'),
  hangExperiment('inventory', 'mid-reservation'),
  killServerExperiment('postgres', 5000),
  hangPostgres,
  killServerExperiment('nats', 5000),
  killServerExperiment('redis', 5000),
  partitionExperiment(
    'orders#1',
    'db',
    'an orders replica that loses its database holds the requests and sagas it has until the link is back (its statements fail only after PG_QUERY_TIMEOUT_MS, and it is marked unready only after three failed probes), so throughput drops; nothing is lost or doubled and it serves again once healed',
    // Measured: 0.4–21.6 orders/s during the 10 s cut (12–24 before), with 10 s and 2 s statement
    // timeouts alike: not "served throughout".
    { servesThroughout: false },
  ),
  partitionExperiment(
    'orders#1',
    'bus',
    'an orders replica cut from NATS keeps its events in the outbox (the other replica relays them) and its read-model consumer catches up; each event is handled once',
  ),
  partitionExperiment(
    'notifications',
    'bus',
    'the notifications consumer cut from NATS catches up once the link is back; each event notifies exactly once',
  ),
  partitionExperiment(
    'orders#1',
    'service',
    'an orders replica cut from its peers mid-saga: the gateway routes around it, its calls have unknown outcomes and are compensated or retried by key, nothing doubles',
  ),
  proxyExperiment({
    name: 'db-latency',
    id: 'orders#1',
    prefix: 'db',
    faults: { latencyMs: 200, jitterMs: 100 },
    fault: 'orders#1 ↔ PostgreSQL: every data chunk 200–300 ms late (fault proxy)',
    hypothesis: 'a slow database slows orders#1 down but breaks nothing',
  }),
  proxyExperiment({
    name: 'db-resets',
    id: 'orders#1',
    prefix: 'db',
    faults: { resetRate: 0.02 },
    fault: 'orders#1 ↔ PostgreSQL: 2 % of data chunks reset their connection (fault proxy)',
    hypothesis:
      'transactions cut by broken connections roll back and are retried; no half-written order, no double effect',
  }),
  proxyExperiment({
    name: 'peer-latency',
    id: 'orders#1',
    prefix: 'service:',
    faults: { latencyMs: 1500, jitterMs: 500 },
    fault: 'orders#1 → catalog, inventory, payments, shipping: 1.5–2 s late (fault proxy)',
    hypothesis:
      'slow peers slow the sagas of orders#1; timeouts that fire leave unknown outcomes that are compensated by key',
  }),
  proxyExperiment({
    name: 'peer-resets',
    id: 'orders#1',
    prefix: 'service:',
    faults: { resetRate: 0.1 },
    fault: 'orders#1 → its peers: 10 % of data chunks reset their connection (fault proxy)',
    hypothesis:
      'calls broken mid-request have unknown outcomes: compensated or retried by idempotency key, never applied twice',
  }),
  processorOutage,
  processorSlow,
  clockSkewExperiment('orders#1', 25_000),
  clockSkewExperiment('orders#1', -25_000),
];

/** The bounded selection CI runs. */
export const CI_SELECTION: readonly string[] = [
  'kill-orders',
  'kill-gateway',
  'hang-payments',
  'kill-postgres',
  'kill-nats',
  'partition-orders-1-db',
  'processor-outage',
];

/** Names of the selections besides single experiment names. */
export const SELECTIONS: readonly string[] = ['all', 'ci', ...new Set(EXPERIMENTS.map((e) => e.category))];

/**
 * The experiments a selection names, in run order, each once: experiment names, categories,
 * `ci` and `all`. Returns the unknown names too, so the caller can refuse them.
 */
export function selectExperiments(selection: readonly string[]): {
  experiments: Experiment[];
  unknown: string[];
} {
  const wanted = new Set<string>();
  const unknown: string[] = [];
  for (const item of selection) {
    if (item === 'all') for (const e of EXPERIMENTS) wanted.add(e.name);
    else if (item === 'ci') for (const name of CI_SELECTION) wanted.add(name);
    else if (EXPERIMENTS.some((e) => e.category === item))
      for (const e of EXPERIMENTS.filter((x) => x.category === item)) wanted.add(e.name);
    else if (EXPERIMENTS.some((e) => e.name === item)) wanted.add(item);
    else unknown.push(item);
  }
  return { experiments: EXPERIMENTS.filter((e) => wanted.has(e.name)), unknown };
}
