import type { Bus, HeaderProvider, MessageHandler } from '../bus.js';
import type { DeadLetterStore } from '../dead-letter.js';
import type { Message } from '../message.js';
import type { BusObserver } from '../observer.js';
import type { TopicSchemas } from '../schemas.js';

/** Options a conformance test passes when it creates a bus. */
export interface ConformanceBusOptions {
  schemas?: TopicSchemas;
  observer?: BusObserver;
  headers?: HeaderProvider;
}

/**
 * What a transport provides to run the bus conformance suite. One context is created per test
 * (a fresh backend: a new SQLite file, a new JetStream stream…); every bus it creates shares
 * that backend, like several processes on one broker.
 */
export interface BusConformanceContext {
  /** A new bus instance on the shared backend (think: a new process). */
  createBus(options?: ConformanceBusOptions): Promise<Bus>;
  /** Simulates the crash of `bus`'s process: nothing it is handling gets acknowledged. */
  crash(bus: Bus): Promise<void>;
  /** The dead-letter store every bus of this context records to. */
  deadLetters: DeadLetterStore;
  /** An effectively-once ledger: each effect commits with its inbox mark. */
  createLedger(): Promise<Ledger>;
  /** Closes buses and deletes the backend. */
  cleanup(): Promise<void>;
}

/** Hooks a ledger handler runs inside the inbox transaction. */
export interface LedgerHooks {
  /** Runs after the effect is written, before commit; throwing rolls both back. */
  beforeCommit?: (message: Message) => void | Promise<void>;
  /** Runs after commit, before the handler returns (i.e. before the bus acks). */
  afterCommit?: (message: Message) => void | Promise<void>;
}

/** A store of applied effects written through an inbox. */
export interface Ledger {
  handler(hooks?: LedgerHooks): MessageHandler;
  /** Every effect applied, in commit order. */
  applied(): Promise<Array<{ group: string; messageId: string }>>;
  close(): Promise<void>;
}

/** Timing knobs a transport may need to tune (defaults suit all built-in transports). */
export interface ConformanceOptions {
  /** Visibility timeout used in crash tests (default 1000 ms). */
  visibilityTimeoutMs?: number;
  /** How long to wait for an expected delivery (default 15 000 ms). */
  waitMs?: number;
  /** Per-test timeout (default 60 000 ms). */
  testTimeoutMs?: number;
}
