/**
 * Fault injection for bus consumers, steered through the ops API: the consumer-side
 * counterpart of a card-processor simulator. Arm a group and its handler throws an
 * {@link InjectedFaultError} instead of running — for the next `count` messages, or until
 * disarmed — so an operator can rehearse retries, dead letters and replays on a running
 * system. Disarmed, the wrapper costs one map lookup per message.
 */
import type { MessageHandler } from '@trellis/messaging';
import { InjectedFaultError } from './errors.js';

/** How an armed group fails. */
export interface FaultSpec {
  /**
   * `transient`: a retryable error (the bus retries, then dead-letters after its attempts);
   * `poison`: marked non-retryable, dead-lettered on the first attempt.
   */
  mode: 'transient' | 'poison';
  /** Messages to fail before disarming by itself; undefined fails until disarmed. */
  remaining?: number | undefined;
}

/** An armed fault as listed. */
export interface FaultView extends FaultSpec {
  group: string;
  /** Messages failed so far by this fault. */
  injected: number;
}

/**
 * The fault switches of a process.
 *
 * @example
 * ```ts
 * const faults = new ConsumerFaults();
 * await bus.subscribe('order.*', faults.wrap('notifications', handler), { group: 'notifications' });
 * faults.arm('notifications', { mode: 'poison', remaining: 3 }); // the next 3 messages dead-letter
 * ```
 */
export class ConsumerFaults {
  private readonly armed = new Map<string, FaultView>();
  private readonly groups = new Set<string>();

  /** Wraps a handler of consumer group `group` so faults armed for it apply. */
  wrap<P>(group: string, handler: MessageHandler<P>): MessageHandler<P> {
    this.groups.add(group);
    return (message, context) => {
      const fault = this.armed.get(group);
      if (fault) {
        fault.injected++;
        if (fault.remaining !== undefined && --fault.remaining <= 0) this.armed.delete(group);
        throw new InjectedFaultError(group, fault.mode === 'transient');
      }
      return handler(message, context);
    };
  }

  /** Consumer groups whose handlers were wrapped here. */
  knownGroups(): string[] {
    return [...this.groups].sort();
  }

  /** Arms a fault. Throws `RangeError` for a group this process never wrapped. */
  arm(group: string, spec: FaultSpec): FaultView {
    if (!this.groups.has(group)) throw new RangeError(`No consumer group ${group} in this process`);
    const view: FaultView = { group, mode: spec.mode, remaining: spec.remaining, injected: 0 };
    this.armed.set(group, view);
    return { ...view };
  }

  /** Disarms; returns whether a fault was armed. */
  disarm(group: string): boolean {
    return this.armed.delete(group);
  }

  /** Armed faults. */
  list(): FaultView[] {
    return [...this.armed.values()].map((f) => ({ ...f }));
  }
}
