import type { DomainEvent } from './domain-event.js';
import type { AppendHook, TransactionContext } from './event-store.js';

/**
 * The registered append hooks of one store, and the watchers notified after commits.
 * Backends share it so every store runs hooks in the same order with the same semantics.
 */
export class AppendHookList<Tx extends TransactionContext> {
  private hooks: AppendHook<Tx>[] = [];
  private readonly watchers = new Set<() => void>();

  constructor(initial: readonly AppendHook<Tx>[] = []) {
    this.hooks = [...initial];
  }

  /** Number of registered hooks; backends skip savepoints when there are none. */
  get size(): number {
    return this.hooks.length;
  }

  /** Registers a hook; the returned function unregisters it. */
  add(hook: AppendHook<Tx>): () => void {
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  /** Runs every hook in registration order inside `tx`; the first failure propagates. */
  async run(tx: Tx, events: readonly DomainEvent[]): Promise<void> {
    // Iterate a snapshot: a hook unregistering itself must not skip the next one.
    for (const hook of this.hooks) await hook(tx, events);
  }

  /** Registers a commit watcher; the returned function unregisters it. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => {
      this.watchers.delete(listener);
    };
  }

  /** Number of commit watchers (backends start cross-process listening only when needed). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Tells every watcher that new events committed. A throwing watcher never hurts the others. */
  notify(): void {
    for (const w of [...this.watchers]) {
      try {
        w();
      } catch {
        // A watcher is a wake-up hint; its failure is its own business.
      }
    }
  }
}
