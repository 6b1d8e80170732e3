/**
 * The durable saga runner: starts instances idempotently, drives them with a checkpoint per
 * step, keeps their leases, and recovers instances whose worker crashed.
 */
import { AbortedError, type SqlTransaction, sleep, uuidv7 } from '@trellis/core';
import { CheckpointWriter } from './checkpoint-writer.js';
import type { SagaDefinition } from './definition.js';
import { type CompiledSaga, type DriveMode, type DriverHost, drive } from './driver.js';
import { SagaConflictError, SagaNotFoundError, SagaNotRegisteredError, SagaStateError } from './errors.js';
import { validateInput } from './input.js';
import { SagaInspector } from './inspector.js';
import { type ActiveInstance, LeaseKeeper } from './lease-keeper.js';
import { notify } from './observer.js';
import { SagaRegistry } from './registry.js';
import { canonicalJson, type SagaHandle, type SagaResult, toResult, unwrapResult } from './result.js';
import {
  type ResolvedRunnerOptions,
  resolveRunnerOptions,
  type SagaRunnerOptions,
} from './runner-options.js';
import type { TraceContext } from './step.js';
import { isTerminalStatus, type NewSagaEvent, type SagaInstance } from './store.js';
import { onTerminal } from './terminal.js';

/** Options of {@link SagaRunner.start}. */
export interface StartOptions {
  /** The saga id: starting twice with the same id starts one saga. Default: a new UUIDv7. */
  id?: string;
  /** W3C trace context and correlation id to carry through every step. */
  trace?: TraceContext;
  /** Insert the instance in this transaction; it runs after the transaction commits. */
  tx?: SqlTransaction;
}

interface Running {
  readonly active: ActiveInstance;
  readonly done: Promise<SagaResult>;
}

/**
 * Runs sagas durably on a {@link SagaStore}.
 *
 * @example
 * ```ts
 * const runner = new SagaRunner({ store: await SqliteSagaStore.create(db), worker: 'orders-1' });
 * runner.startWorker(); // recover instances left by a crash, now and every second
 * const result = await runner.run(placeOrder, { orderId: 'o1', amount: 20 }, { id: 'order-o1' });
 * if (result.status !== 'completed') console.warn(result.error);
 * ```
 */
export class SagaRunner {
  readonly options: ResolvedRunnerOptions;
  /** Listing, timelines and counts over this runner's store. */
  readonly inspect: SagaInspector;
  private readonly registry = new SagaRegistry();
  private readonly active = new Map<string, ActiveInstance>();
  private readonly running = new Map<string, Running>();
  private readonly creating = new Map<string, Promise<{ created: boolean; instance: SagaInstance }>>();
  private readonly keeper: LeaseKeeper;
  private readonly checkpoints: CheckpointWriter;
  private readonly closing = new AbortController();
  private readonly host: DriverHost;
  private polling: Promise<void> | undefined;

  /** Throws `ValidationError` when an option is out of range. */
  constructor(options: SagaRunnerOptions) {
    this.options = resolveRunnerOptions(options);
    const o = this.options;
    this.inspect = new SagaInspector(o.store, o.clock);
    this.keeper = new LeaseKeeper(o.store, o.clock, o.owner, o.leaseMs, this.active, o.observer);
    this.checkpoints = new CheckpointWriter(o, this.active, this.closing.signal);
    this.host = {
      clock: o.clock,
      observer: o.observer,
      maxRecoveryAttempts: o.maxRecoveryAttempts,
      commit: (cp) => this.checkpoints.commit(cp),
      terminated: (instance, cause) => onTerminal(o, instance, cause),
    };
  }

  /** This incarnation's owner id (worker id plus a random suffix), as stored on leased instances. */
  get owner(): string {
    return this.options.owner;
  }

  /** Makes a saga known to this runner, so it can start, recover and resume its instances. */
  register(...definitions: SagaDefinition<object, unknown>[]): this {
    for (const def of definitions)
      this.registry.add(def as SagaDefinition<object, unknown>, this.options.clock);
    return this;
  }

  /**
   * Starts a saga (registering its definition if needed) and returns at once with a handle.
   *
   * Throws `ValidationError` (nothing written) when the input fails the saga's schema, is not a
   * JSON object, or uses a reserved key; `SagaConflictError` when the id is taken by another saga
   * type or a different input.
   */
  async start<I extends object, O>(
    def: SagaDefinition<I, O>,
    input: I,
    options: StartOptions = {},
  ): Promise<SagaHandle<O>> {
    const saga = this.registry.add(def as SagaDefinition<object, unknown>, this.options.clock);
    const data = validateInput(def as SagaDefinition<object, unknown>, input);
    const { clock } = this.options;
    const id = options.id ?? uuidv7(clock.now());
    let creating = this.creating.get(id);
    const first = !creating;
    if (!creating) {
      creating = this.create(saga, id, data, options);
      this.creating.set(id, creating);
      void creating.then(
        () => this.creating.delete(id),
        () => this.creating.delete(id),
      );
    }
    const { created, instance } = await creating;
    const mine = first && created;
    if (!mine) {
      if (instance.name !== def.name)
        throw new SagaConflictError(id, `it belongs to saga "${instance.name}"`);
      if (canonicalJson(instance.input) !== canonicalJson(data))
        throw new SagaConflictError(id, 'a different input');
    }
    if (mine)
      notify(this.options.observer, 'sagaStarted', { saga: saga.name, sagaId: id, trace: instance.trace });
    if (mine && !options.tx) this.launch(saga, instance, 'started');
    if (mine && options.tx) options.tx.afterCommit(() => this.launch(saga, instance, 'started'));
    return {
      sagaId: id,
      created: mine,
      result: (o) => this.waitFor(id, o?.signal) as Promise<SagaResult<O>>,
    };
  }

  /** Starts a saga and waits for its terminal state. Same errors as {@link start}. */
  async run<I extends object, O>(
    def: SagaDefinition<I, O>,
    input: I,
    options: Omit<StartOptions, 'tx'> = {},
  ): Promise<SagaResult<O>> {
    return (await this.start(def, input, options)).result();
  }

  /**
   * The seed's contract, durably: runs the saga and returns its final context.
   *
   * Throws `SagaExecutionError(step, cause)` when it was compensated, `SagaFailedError` when it
   * needs attention, and whatever {@link start} throws.
   */
  async execute<I extends object, O>(
    def: SagaDefinition<I, O>,
    input: I,
    options: Omit<StartOptions, 'tx'> = {},
  ): Promise<O> {
    return unwrapResult(await this.run(def, input, options));
  }

  /**
   * Waits for an instance (started anywhere) to reach a terminal state.
   *
   * Throws `SagaNotFoundError` for an unknown id; `AbortedError` when `signal` aborts or the
   * runner closes first.
   */
  async waitFor(id: string, signal?: AbortSignal): Promise<SagaResult> {
    const { store, clock, pollIntervalMs } = this.options;
    let stop: AbortSignal | undefined;
    for (;;) {
      const local = this.running.get(id);
      stop ??= signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
      // Running here: no polling, but the caller's signal still bounds the wait (the saga
      // itself carries on; only the waiting stops).
      if (local) return untilAborted(local.done, stop);
      const row = await store.get(id);
      if (!row) throw new SagaNotFoundError(id);
      if (isTerminalStatus(row.status)) return toResult(row);
      await sleep(pollIntervalMs, { clock, signal: stop }).catch(() => {
        throw new AbortedError('Stopped waiting for the saga', { cause: stop?.reason });
      });
    }
  }

  /**
   * Operator resume of a `failed` saga, in this process: it goes back to where it failed
   * (retrying the compensation, or the step after the pivot) with fresh attempts.
   *
   * Throws `SagaNotFoundError`, `SagaNotRegisteredError` (this runner cannot run it), or
   * `SagaStateError` when it is not `failed`.
   */
  async resume(id: string, note = 'operator'): Promise<SagaHandle> {
    const { store, clock, owner, worker, leaseMs } = this.options;
    const row = await store.get(id);
    if (!row) throw new SagaNotFoundError(id);
    const saga = this.registry.get(row.name);
    if (!saga) throw new SagaNotRegisteredError(row.name);
    const now = clock.now();
    const event: NewSagaEvent = {
      at: now,
      kind: 'operator_resumed',
      step: saga.steps[row.step]?.step.name ?? null,
      attempt: null,
      durationMs: null,
      error: null,
      note,
    };
    const reopened = await store.reopen(id, { owner, worker, leaseUntil: now + leaseMs, now }, [event]);
    if (!reopened) throw new SagaStateError(`Saga ${id} is ${row.status}; only a failed saga can be resumed`);
    this.launch(saga, reopened, 'operator');
    return { sagaId: id, created: false, result: (o) => this.waitFor(id, o?.signal) };
  }

  /** Recovers now: claims instances whose worker vanished and drives them. Returns how many. */
  async recover(): Promise<number> {
    const { store, clock, owner, worker, leaseMs, maxConcurrent } = this.options;
    const names = this.registry.names();
    const free = maxConcurrent - this.active.size;
    if (free <= 0 || names.length === 0 || this.closing.signal.aborted) return 0;
    const now = clock.now();
    const claimed = await store.claim({ owner, worker, names, now, leaseUntil: now + leaseMs, limit: free });
    for (const instance of claimed) {
      const saga = this.registry.get(instance.name);
      if (!saga) continue;
      const previous = this.running.get(instance.id);
      if (previous) {
        // Our own lease ran out while we still drive it (the database was down, so no renewal):
        // the claim is ours, so the running drive simply carries on at the claimed version.
        previous.active.version = instance.version;
        previous.active.leaseUntil = instance.leaseUntil;
        continue;
      }
      this.launch(saga, instance, 'recovered');
    }
    return claimed.length;
  }

  /**
   * Recovers at once, then every `pollIntervalMs`, until {@link close}. Like a listening
   * server, a started worker keeps the process alive until it is closed.
   */
  startWorker(): void {
    if (this.polling || this.closing.signal.aborted) return;
    const { clock, pollIntervalMs, observer } = this.options;
    // The clock's timers never hold the process open (by design); a worker must, so hold a
    // reference until close(). It never fires anything.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    this.closing.signal.addEventListener('abort', () => clearInterval(keepAlive), { once: true });
    this.polling = (async () => {
      while (!this.closing.signal.aborted) {
        try {
          await this.recover();
        } catch (error) {
          notify(observer, 'storeError', { operation: 'claim', error });
        }
        await sleep(pollIntervalMs, { clock, signal: this.closing.signal }).catch(() => undefined);
      }
    })();
  }

  /** Instances this runner is driving right now. */
  activeCount(): number {
    return this.active.size;
  }

  /**
   * Stops: no more recovery; running steps are aborted (their outcome stays unknown and is
   * resolved by whoever recovers them), and leases are handed back so another worker can
   * continue at once. With `graceMs`, running sagas first get that long to finish.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    const { clock, store, owner } = this.options;
    const all = () => [...this.running.values()].map((r) => r.done.catch(() => undefined));
    if (options.graceMs && this.running.size > 0) {
      const grace = new AbortController();
      await Promise.race([
        Promise.all(all()),
        sleep(options.graceMs, { clock, signal: grace.signal }).catch(() => {}),
      ]);
      grace.abort();
    }
    this.closing.abort(new AbortedError('Saga runner closed'));
    this.keeper.stop();
    const held = [...this.active.values()].map((a) => ({ id: a.id, version: a.version }));
    for (const a of this.active.values()) a.controller.abort(new AbortedError('Saga runner closed'));
    await Promise.all(all());
    await this.polling;
    if (held.length > 0) await store.release(owner, held).catch(() => undefined);
  }

  private async create(saga: CompiledSaga, id: string, data: Record<string, unknown>, options: StartOptions) {
    const { store, clock, owner, worker, leaseMs } = this.options;
    const now = clock.now();
    const instance: SagaInstance = {
      id,
      name: saga.name,
      status: 'running',
      step: 0,
      context: data,
      input: data,
      error: null,
      resumeStatus: null,
      trace: options.trace ?? {},
      owner,
      worker,
      leaseUntil: now + leaseMs,
      version: 1,
      recoveries: 0,
      createdAt: now,
      updatedAt: now,
    };
    const base = { at: now, attempt: null, durationMs: null, error: null, note: null };
    const events: NewSagaEvent[] = [
      { ...base, kind: 'saga_started', step: null },
      { ...base, kind: 'step_started', step: saga.steps[0]!.step.name, attempt: 1 },
    ];
    return store.create(instance, events, options.tx);
  }

  private launch(saga: CompiledSaga, instance: SagaInstance, mode: DriveMode): void {
    if (this.closing.signal.aborted) return;
    const active: ActiveInstance = {
      id: instance.id,
      version: instance.version,
      leaseUntil: instance.leaseUntil,
      controller: new AbortController(),
    };
    this.active.set(instance.id, active);
    this.keeper.ensureRunning();
    const done = drive(this.host, saga, instance, mode, active.controller.signal).then(
      (r) => {
        this.forget(active);
        if (r.kind === 'terminal') return toResult<Record<string, unknown>>(r.instance, r.cause);
        // Lost the lease: the new owner finishes it; follow it through the store.
        if (r.reason === 'lease_lost' && !this.closing.signal.aborted) return this.waitFor(instance.id);
        throw new AbortedError(`Stopped driving saga ${instance.id}`, {
          cause: active.controller.signal.reason,
        });
      },
      (error: unknown) => {
        this.forget(active);
        throw error;
      },
    );
    done.catch(() => undefined);
    this.running.set(instance.id, { active, done });
  }

  private forget(active: ActiveInstance): void {
    if (this.active.get(active.id) === active) this.active.delete(active.id);
    if (this.running.get(active.id)?.active === active) this.running.delete(active.id);
  }
}

/** `promise`, or an AbortedError as soon as `signal` aborts; the listener never outlives the wait. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = () => new AbortedError('Stopped waiting for the saga', { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
