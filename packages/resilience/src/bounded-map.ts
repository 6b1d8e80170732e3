/**
 * A map with bounded memory for per-key policies (internal): at most `maxSize` entries, least
 * recently used evicted first, entries idle for `idleMs` dropped, and an `onEvict` hook so
 * evicted values release what they hold. No timers: expiry is checked as entries are used
 * and inserted, so an idle pool costs nothing and leaks nothing (opossum #248, #648).
 *
 * Recency is the Map's insertion order. Moving a key to the end costs a delete and a set, so
 * a key is moved only when at least `maxSize / 2` moves happened since its last one: a key
 * used since then is still in the newer half and cannot be the one evicted, and hot keys
 * move once per `maxSize / 2` operations instead of on every call.
 */

interface Entry<V> {
  value: V;
  usedAt: number;
  /** Value of `moves` when the entry was last (re)inserted. */
  seq: number;
}

/** Idle entries checked at the old end of the map on each insert (keeps pace with inserts). */
const SWEEP_PER_INSERT = 8;

/** Keyed values with a size cap, LRU eviction, idle expiry and an eviction hook. */
export class BoundedMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  private moves = 0;
  private readonly moveAfter: number;

  constructor(
    private readonly maxSize: number,
    private readonly idleMs: number,
    private readonly now: () => number,
    private readonly onEvict: (key: string, value: V) => void,
  ) {
    this.moveAfter = Math.max(1, maxSize >> 1);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, created by `create` when absent or idle; marks it used. */
  getOrCreate(key: string, create: (key: string) => V): V {
    const now = this.now();
    const entry = this.map.get(key);
    if (entry !== undefined) {
      if (now - entry.usedAt < this.idleMs) {
        entry.usedAt = now;
        if (this.moves - entry.seq >= this.moveAfter) {
          entry.seq = ++this.moves;
          this.map.delete(key);
          this.map.set(key, entry);
        }
        return entry.value;
      }
      this.evict(key, entry);
    }
    const value = create(key);
    this.makeRoom(now);
    this.map.set(key, { value, usedAt: now, seq: ++this.moves });
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

  entries(): Array<[string, V]> {
    return [...this.map].map(([k, e]) => [k, e.value]);
  }

  private makeRoom(now: number): void {
    let checked = 0;
    for (const [key, entry] of this.map) {
      if (checked++ >= SWEEP_PER_INSERT) break;
      if (now - entry.usedAt >= this.idleMs) this.evict(key, entry);
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
