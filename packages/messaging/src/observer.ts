/**
 * Metrics hooks. A bus, the outbox relay and the consumers call these; the service runtime
 * maps them to Prometheus. Every hook is optional, is called synchronously and must be cheap;
 * a hook that throws is ignored (metrics never break message flow).
 */

/** A message was stored by the transport. */
export interface PublishedEvent {
  transport: string;
  topic: string;
}

/** A handler finished successfully (or an inbox skipped a duplicate). */
export interface HandledEvent {
  transport: string;
  group: string;
  topic: string;
  attempt: number;
  /** How long the handler ran. */
  durationMs: number;
  /** From publish to the end of handling: the end-to-end latency. */
  latencyMs: number;
}

/** A handler failed and the message will be retried after `delayMs`. */
export interface RetriedEvent {
  transport: string;
  group: string;
  topic: string;
  attempt: number;
  delayMs: number;
  durationMs: number;
  error: unknown;
}

/** A message went to the dead-letter store. */
export interface DeadLetteredEvent {
  transport: string;
  group: string;
  topic: string;
  attempts: number;
  reason: 'failed' | 'invalid-payload' | 'max-deliveries';
  error: unknown;
}

/** Periodic backlog of a consumer group (see `lagIntervalMs` of each bus). */
export interface LagEvent {
  transport: string;
  group: string;
  pattern: string;
  pending: number;
  inFlight: number;
}

/** Outbox relay progress. */
export interface RelayedEvent {
  /** Rows published and marked sent in this batch. */
  count: number;
  /** Rows still waiting after this batch, when known. */
  backlog?: number;
}

/** The typed observer interface. */
export interface BusObserver {
  published?(event: PublishedEvent): void;
  handled?(event: HandledEvent): void;
  retried?(event: RetriedEvent): void;
  deadLettered?(event: DeadLetteredEvent): void;
  lag?(event: LagEvent): void;
  relayed?(event: RelayedEvent): void;
}

type Hook = keyof BusObserver;
type Arg<K extends Hook> = Parameters<NonNullable<BusObserver[K]>>[0];

/** Calls `observer[hook](event)` and swallows anything it throws. */
export function notify<K extends Hook>(observer: BusObserver | undefined, hook: K, event: Arg<K>): void {
  const fn = observer?.[hook] as ((e: Arg<K>) => void) | undefined;
  if (!fn) return;
  try {
    fn.call(observer, event);
  } catch {
    // Metrics must never break message flow.
  }
}

/** Fans one event out to several observers. */
export function combineObservers(...observers: Array<BusObserver | undefined>): BusObserver {
  const list = observers.filter((o): o is BusObserver => o !== undefined);
  const fan =
    <K extends Hook>(hook: K) =>
    (event: Arg<K>) => {
      for (const o of list) notify(o, hook, event);
    };
  return {
    published: fan('published'),
    handled: fan('handled'),
    retried: fan('retried'),
    deadLettered: fan('deadLettered'),
    lag: fan('lag'),
    relayed: fan('relayed'),
  };
}
