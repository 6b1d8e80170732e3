/**
 * A process manager watches a choreographed flow: it correlates the flow's events by an id
 * (the order id), keeps the flow's state, and arms a deadline. When the deadline passes
 * without the events that would end the flow (no `payment.completed` or `payment.failed`),
 * its `onDeadline` handler runs and compensates. Event handling runs in the inbox transaction;
 * deadline handling in a transaction of the process store; both publish through the outbox.
 */
import {
  type Clock,
  errorGuard,
  type SqlTransaction,
  systemClock,
  type TimerHandle,
  TrellisError,
} from '@trellis/core';
import {
  type Bus,
  type Inbox,
  type Message,
  type Outbox,
  type RetryOptions,
  type Subscription,
  withInbox,
} from '@trellis/messaging';
import { type ChoreographyContext, choreographyContext } from './context.js';
import type { EventCatalog, EventsOf, TopicOf } from './events.js';
import { PROCESS_HISTORY_LIMIT, type ProcessInstance, type ProcessStore } from './process-store.js';

/** What a process-manager handler can do besides publishing. */
export interface ProcessContext<C extends EventCatalog, S, Tx> extends ChoreographyContext<C, Tx> {
  readonly correlationId: string;
  /** The flow's state; assign or mutate it, it is saved after the handler. */
  state: S;
  /** Now, on the manager's clock. */
  readonly now: number;
  /** (Re)arms the deadline `ms` from now. */
  deadlineIn(ms: number): void;
  clearDeadline(): void;
  /** Ends the flow with an outcome; later events for it are ignored, the deadline is cleared. */
  complete(outcome: string): void;
}

/** A process manager's definition. */
export interface ProcessManagerDefinition<C extends EventCatalog, S, Tx = SqlTransaction> {
  /** Stable name: the consumer group (`pm-<name>`) and the flows' key in the store. */
  name: string;
  catalog: C;
  /** The correlation id of each handled topic's event. */
  correlate: { [K in TopicOf<C>]?: (event: EventsOf<C>[K]) => string };
  /** Topics that open a flow; other topics for an unknown flow are retried until it exists. */
  startedBy: ReadonlyArray<TopicOf<C>>;
  /** The state of a new flow. */
  initialState: (correlationId: string) => S;
  on: { [K in TopicOf<C>]?: (event: EventsOf<C>[K], ctx: ProcessContext<C, S, Tx>) => unknown };
  /** Runs when an active flow's deadline passes: compensate here (publish, write, `complete`). */
  onDeadline?: (ctx: ProcessContext<C, S, Tx>) => unknown;
}

/**
 * An event arrived for a flow that has not started (events of different topics are not
 * ordered relative to each other). The bus retries it; HTTP 409.
 */
export class ProcessNotStartedError extends TrellisError {
  constructor(manager: string, correlationId: string, topic: string) {
    super(
      'PROCESS_NOT_STARTED',
      `${manager}: ${topic} for ${correlationId} arrived before the flow started`,
      409,
      {
        details: { manager, correlationId, topic },
      },
    );
  }
}

/** Guard for {@link ProcessNotStartedError} (code `PROCESS_NOT_STARTED`). */
export const isProcessNotStartedError = errorGuard<ProcessNotStartedError>('PROCESS_NOT_STARTED');

/** Options of a running {@link ProcessManager}. */
export interface ProcessManagerOptions<Tx> {
  store: ProcessStore<Tx>;
  outbox: Outbox<Tx>;
  clock?: Clock;
  /** Called after each deadline expiry was handled (metrics, logs). */
  onExpired?: (instance: ProcessInstance) => void;
}

/**
 * Runs a process manager definition: {@link subscribe} feeds it events, {@link startDeadlines}
 * checks deadlines on a timer (or call {@link checkDeadlines} yourself).
 *
 * @example
 * ```ts
 * const pm = new ProcessManager(paymentWatch, { store: await SqliteProcessStore.create(db), outbox });
 * await pm.subscribe({ bus, inbox });
 * pm.startDeadlines({ intervalMs: 1000 });
 * ```
 */
export class ProcessManager<C extends EventCatalog, S, Tx = SqlTransaction> {
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly idle = new AbortController().signal;

  constructor(
    readonly definition: ProcessManagerDefinition<C, S, Tx>,
    private readonly options: ProcessManagerOptions<Tx>,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** The consumer group the manager subscribes as. */
  get group(): string {
    return `pm-${this.definition.name}`;
  }

  /** Subscribes one consumer per correlated topic, through the inbox. */
  async subscribe(wiring: {
    bus: Bus;
    inbox: Inbox<Tx>;
    retry?: RetryOptions;
    concurrency?: number;
  }): Promise<Subscription[]> {
    const subs: Subscription[] = [];
    for (const topic of Object.keys(this.definition.correlate) as TopicOf<C>[]) {
      const schema = this.definition.catalog[topic];
      const handler = withInbox<unknown, Tx>(wiring.inbox, (message, tx, hctx) =>
        this.handle(topic, message, tx, hctx.signal),
      );
      subs.push(
        await wiring.bus.subscribe(topic, handler, {
          group: this.group,
          ...(schema ? { schema } : {}),
          ...(wiring.retry ? { retry: wiring.retry } : {}),
          ...(wiring.concurrency ? { concurrency: wiring.concurrency } : {}),
        }),
      );
    }
    return subs;
  }

  /** Handles one event inside `tx` (public for transports without a bus). */
  async handle(topic: TopicOf<C>, message: Message, tx: Tx, signal: AbortSignal = this.idle): Promise<void> {
    const def = this.definition;
    const correlate = def.correlate[topic] as ((e: unknown) => string) | undefined;
    if (!correlate) return;
    const id = correlate(message.payload);
    const { store } = this.options;
    const now = this.clock.now();
    let instance = await store.load(tx, def.name, id);
    if (!instance) {
      if (!def.startedBy.includes(topic)) throw new ProcessNotStartedError(def.name, id, topic);
      instance = {
        manager: def.name,
        correlationId: id,
        status: 'active',
        outcome: null,
        state: def.initialState(id),
        deadlineAt: null,
        version: 0,
        createdAt: now,
        updatedAt: now,
        history: [],
      };
    }
    if (instance.status === 'done') {
      await this.save(tx, instance, {
        topic,
        messageId: message.id,
        note: `ignored (flow ${instance.outcome})`,
      });
      return;
    }
    const ctx = this.context(instance, tx, message, signal);
    const handler = def.on[topic] as ((e: unknown, c: unknown) => unknown) | undefined;
    await handler?.(message.payload, ctx);
    await this.save(tx, instance, {
      topic,
      messageId: message.id,
      note: instance.version === 0 ? 'started' : 'handled',
    });
  }

  /** Handles every flow whose deadline has passed; returns how many. */
  async checkDeadlines(limit = 100): Promise<number> {
    const { store } = this.options;
    const def = this.definition;
    if (!def.onDeadline) return 0;
    const due = await store.due(def.name, this.clock.now(), limit);
    let handled = 0;
    for (const id of due) {
      const expired = await store.transaction(async (tx) => {
        const instance = await store.load(tx, def.name, id);
        const now = this.clock.now();
        // Re-checked under the lock: an event may have ended or re-armed the flow meanwhile.
        if (instance?.status !== 'active' || instance.deadlineAt === null || instance.deadlineAt > now)
          return;
        const armed = instance.deadlineAt;
        const ctx = this.context(instance, tx, undefined, this.idle);
        await def.onDeadline?.(ctx);
        // A handler that neither completes nor re-arms would fire forever: disarm it.
        if (instance.deadlineAt === armed) instance.deadlineAt = null;
        await this.save(tx, instance, { topic: 'deadline', messageId: null, note: 'deadline passed' });
        return instance;
      });
      if (expired) {
        handled++;
        this.options.onExpired?.(expired);
      }
    }
    return handled;
  }

  /** Checks deadlines now and then every `intervalMs` (on the manager's clock) until {@link stop}. */
  startDeadlines(options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): void {
    const interval = options.intervalMs ?? 1000;
    const tick = async () => {
      this.timer = undefined;
      try {
        await this.checkDeadlines();
      } catch (error) {
        options.onError?.(error);
      }
      if (!this.stopped) this.timer = this.clock.setTimeout(() => void tick(), interval);
    };
    this.stopped = false;
    void tick();
  }

  /** Stops the deadline timer. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A flow's stored state. */
  get(correlationId: string): Promise<ProcessInstance | undefined> {
    return this.options.store.get(this.definition.name, correlationId);
  }

  private context(instance: ProcessInstance, tx: Tx, message: Message | undefined, signal: AbortSignal) {
    const base = choreographyContext(this.definition.catalog, this.options.outbox, tx, message, signal);
    const clock = this.clock;
    const withCorrelation: ChoreographyContext<C, Tx>['publish'] = (topic, payload, options = {}) =>
      base.publish(topic, payload, {
        ...options,
        // Deadline handlers have no message to inherit from: tie what they publish to the flow.
        headers: message ? options.headers : { correlationId: instance.correlationId, ...options.headers },
      });
    const ctx: ProcessContext<C, S, Tx> = {
      ...base,
      publish: withCorrelation,
      correlationId: instance.correlationId,
      get state() {
        return instance.state as S;
      },
      set state(value: S) {
        instance.state = value;
      },
      now: clock.now(),
      deadlineIn(ms) {
        instance.deadlineAt = clock.now() + ms;
      },
      clearDeadline() {
        instance.deadlineAt = null;
      },
      complete(outcome) {
        instance.status = 'done';
        instance.outcome = outcome;
        instance.deadlineAt = null;
      },
    };
    return ctx;
  }

  private async save(
    tx: Tx,
    instance: ProcessInstance,
    entry: { topic: string; messageId: string | null; note: string },
  ) {
    const now = this.clock.now();
    const note =
      instance.status === 'done' && !entry.note.startsWith('ignored')
        ? `${entry.note}; ${instance.outcome}`
        : entry.note;
    instance.history = [...instance.history, { at: now, ...entry, note }].slice(-PROCESS_HISTORY_LIMIT);
    instance.updatedAt = now;
    // A ConflictError (another member saved this flow first) rolls the transaction back, and
    // the bus retries the event against the new state.
    await this.options.store.save(tx, instance);
  }
}

/** Declares a process manager (a typed identity function, for inference). */
export function defineProcessManager<C extends EventCatalog, S, Tx = SqlTransaction>(
  definition: ProcessManagerDefinition<C, S, Tx>,
): ProcessManagerDefinition<C, S, Tx> {
  return definition;
}
