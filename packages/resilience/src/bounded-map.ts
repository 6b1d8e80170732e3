/**
 * A map with bounded memory for per-key policies (internal): at most `maxSize` entries, least
 * recently used evicted first, entries idle for `idleMs` dropped, and an `onEvict` hook so
 * evicted values release what they hold. No timers: expiry is checked as entries are used
 * and inserted, so an idle pool costs nothing and leaks nothing (opossum #248, #648).
 */

interface Entry<V> {
  value: V;
  usedAt: number;
}

export class BoundedMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  private insertsSinceSweep = 0;

  constructor(
    private readonly maxSize: number,
    private readonly idleMs: number,
    private readonly now: () => number,
    private readonly onEvict: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, created by `create` when absent; marks it recently used. */
  getOrCreate(key: string, create: (key: string) => V): V {
    const now = this.now();
    const entry = this.map.get(key);
    if (entry !== undefined) {
      if (now - entry.usedAt < this.idleMs) {
        // Re-insert to move the key to the end of the iteration order (most recent).
        if (now !== entry.usedAt) {
          entry.usedAt = now;
          this.map.delete(key);
          this.map.set(key, entry);
        }
        return entry.value;
      }
      this.evict(key, entry);
    }
    const value = create(key);
    this.makeRoom(now);
    this.map.set(key, { value, usedAt: now });
    return value;
  }

  /** The value for `key` without creating or touching it. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Removes `key` (calling `onEvict`); true when it was present. */
  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (!entry) return false;
    this.evict(key, entry);
    return true;
  }

  /** Removes every entry (calling `onEvict` for each). */
  clear(): void {
    for (const [key, entry] of [...this.map]) this.evict(key, entry);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  entries(): Array<[string, V]> {
    return [...this.map].map(([k, e]) => [k, e.value]);
  }

  private makeRoom(now: number): void {
    // Sweep idle entries now and then (amortised O(1) per insert), then evict LRU if still full.
    if (++this.insertsSinceSweep >= Math.max(16, this.maxSize >> 3) || this.map.size >= this.maxSize) {
      this.insertsSinceSweep = 0;
      for (const [key, entry] of this.map) {
        if (now - entry.usedAt < this.idleMs) break;
        this.evict(key, entry);
      }
    }
    while (this.map.size >= this.maxSize) {
      const oldest = this.map.entries().next().value as [string, Entry<V>];
      this.evict(oldest[0], oldest[1]);
    }
  }

  private evict(key: string, entry: Entry<V>): void {
    this.map.delete(key);
    this.onEvict(key, entry.value);
  }
}
