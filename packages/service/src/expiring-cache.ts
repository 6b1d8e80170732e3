/**
 * A bounded map whose entries expire at a given clock time. Used for verified tokens (cached
 * until their `exp`) and signed internal tokens. Eviction is first-in-first-out when full:
 * cheaper than LRU bookkeeping on every hit, and a hot entry that is evicted is simply
 * recomputed once.
 */
export class ExpiringCache<V> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();

  /** `maxEntries` bounds memory; at least 1. */
  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
  }

  /** The value under `key` if it has not expired at `now`. Expired entries are dropped. */
  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** The expiry time of `key`, or undefined. */
  expiresAt(key: string): number | undefined {
    return this.map.get(key)?.expiresAt;
  }

  /** Stores `value` until `expiresAt` (clock ms); evicts the oldest entry when full. */
  set(key: string, value: V, expiresAt: number): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
