/**
 * A minimal typed listener list (internal). Policies expose `onX(listener)` methods returning
 * an unsubscribe function instead of extending EventEmitter: no MaxListeners warnings, no
 * string event names, and emitting with no listeners costs one length check.
 */
export class Listeners<E> {
  private list: Array<(event: E) => void> = [];

  /** True when at least one listener is registered (check before building an event object). */
  get active(): boolean {
    return this.list.length !== 0;
  }

  /** Adds a listener; the returned function removes it (idempotent). */
  add(listener: (event: E) => void): () => void {
    this.list = [...this.list, listener];
    return () => {
      this.list = this.list.filter((l) => l !== listener);
    };
  }

  /** Calls every listener; a throwing listener cannot break the policy or the others. */
  emit(event: E): void {
    for (const listener of this.list) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.list = [];
  }
}
