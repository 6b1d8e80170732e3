/**
 * The shop's bus. Embedded: the durable SQLite bus in one file (`<DATA_DIR>/bus.db`) that every
 * service process opens, with its dead letters in the same file. Distributed: NATS JetStream,
 * with dead letters in the service's own PostgreSQL database.
 */
import { join } from 'node:path';
import type { Bus, BusObserver, DeadLetterStore } from '@trellis/messaging';
import type { Backend } from './backend.js';

/** A bus and the store its dead letters (and failed sagas) go to. */
export interface ShopBus {
  bus: Bus;
  deadLetters: DeadLetterStore;
}

/** Where the bus is. */
export type BusLocation =
  | { kind: 'sqlite'; file: string }
  | { kind: 'nats'; url: string; namespace?: string };

/** The embedded bus file under `dataDir`. */
export function busFileOf(dataDir: string): string {
  return join(dataDir, 'bus.db');
}

/**
 * Opens the bus. On NATS, dead letters go to `backend`'s database (each service keeps the
 * ones of its own consumer groups).
 *
 * @example
 * ```ts
 * const { bus } = await openBus({ kind: 'sqlite', file: './data/bus.db' }, backend, 'orders');
 * ```
 */
export async function openBus(
  location: BusLocation,
  backend: Backend,
  service: string,
  observer?: BusObserver,
): Promise<ShopBus> {
  if (location.kind === 'sqlite') {
    const { SqliteBus } = await import('@trellis/sqlite');
    const bus = await SqliteBus.open(location.file, observer ? { observer } : {});
    return { bus, deadLetters: bus.deadLetters };
  }
  const deadLetters = await backend.deadLetters();
  const { JetStreamBus } = await import('@trellis/nats');
  const bus = await JetStreamBus.connect({
    servers: location.url,
    deadLetters,
    stream: (location.namespace ?? 'shop').toUpperCase(),
    subjectPrefix: location.namespace ?? 'shop',
    name: `shop-${service}`,
    ...(observer ? { observer } : {}),
  });
  return { bus, deadLetters };
}
