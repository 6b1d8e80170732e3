/**
 * Storage contract for `Idempotency-Key` handling, with an in-memory implementation for one
 * process. `SqlIdempotencyStore` implements the same contract on any `SqlDatabase`.
 */
import { type Clock, systemClock } from '@trellis/core';

/** A response kept for replay. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** The serialized body as sent. */
  body: string;
}

/** The result of trying to claim a key. */
export type AcquireResult =
  /** The key is new (or its previous claim expired): the caller runs the request. */
  | { state: 'acquired' }
  /** Another request holds the key and has not finished. */
  | { state: 'in-progress'; fingerprint: string }
  /** A request with this key completed; replay its response (if the fingerprint matches). */
  | { state: 'completed'; fingerprint: string; response: StoredResponse };

/** Where idempotency keys and their responses live. */
export interface IdempotencyStore {
  /**
   * Claims `key` for a request with `fingerprint`, unless it is held or completed. A claim not
   * completed within `lockMs` (crashed process) may be taken over.
   */
  acquire(key: string, fingerprint: string, lockMs: number): Promise<AcquireResult>;
  /** Stores the response of a claimed key; it is replayed for `ttlMs`. */
  complete(key: string, response: StoredResponse, ttlMs: number): Promise<void>;
  /** Gives up a claim without storing a response (the request may be retried). */
  release(key: string): Promise<void>;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse | undefined;
  expiresAt: number;
}

/**
 * An {@link IdempotencyStore} in process memory: right for one instance and tests. Bounded
 * by `maxEntries` (oldest dropped first).
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(options: { clock?: Clock; maxEntries?: number } = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  async acquire(key: string, fingerprint: string, lockMs: number): Promise<AcquireResult> {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (e && e.expiresAt > now) {
      return e.response
        ? { state: 'completed', fingerprint: e.fingerprint, response: e.response }
        : { state: 'in-progress', fingerprint: e.fingerprint };
    }
    if (e) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { fingerprint, response: undefined, expiresAt: now + lockMs });
    return { state: 'acquired' };
  }

  async complete(key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    e.response = response;
    e.expiresAt = this.clock.now() + ttlMs;
  }

  async release(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (e && !e.response) this.entries.delete(key);
  }
}
