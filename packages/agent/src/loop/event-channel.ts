import { AbortedError } from '@trellis/core';
import type { AgentRunStream } from './agent-types.js';
import type { AgentEvent } from './events.js';
import type { RunResult } from './run-result.js';

interface Waiter<T> {
  resolve: (result: IteratorResult<T>) => void;
  reject: (error: unknown) => void;
}

/**
 * A one-consumer async queue: the loop pushes events without waiting, the consumer pulls them
 * with `for await`. Breaking out of the loop calls `onCancel`, so a streaming caller that goes
 * away stops the run instead of leaving it to run unseen.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private waiter: Waiter<T> | undefined;
  private closed = false;
  private iterated = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly onCancel: () => void = () => {}) {}

  /** Queues an event (ignored after close). */
  push(value: T): void {
    if (this.closed) return;
    const waiter = this.take();
    if (waiter) waiter.resolve({ value, done: false });
    else this.buffer.push(value);
  }

  /** Ends the stream after the buffered events. */
  close(): void {
    this.closed = true;
    this.take()?.resolve({ value: undefined, done: true });
  }

  /** Ends the stream with an error: after the buffered events, the consumer's loop throws it. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const waiter = this.take();
    if (waiter) waiter.reject(error);
    else this.failure = { error };
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new Error('An agent event stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => {
        if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
        if (this.failure) {
          const { error } = this.failure;
          this.failure = undefined;
          return Promise.reject(error);
        }
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        if (!this.closed) this.onCancel();
        this.closed = true;
        this.buffer.length = 0;
        this.take()?.resolve({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private take(): Waiter<T> | undefined {
    const waiter = this.waiter;
    this.waiter = undefined;
    return waiter;
  }
}

/**
 * Runs `go` with events flowing into a channel: the returned stream yields them, `result`
 * settles with the run. Leaving the iteration early aborts the signal handed to `go`.
 */
export function streamRun(
  runId: string,
  callerSignal: AbortSignal | undefined,
  go: (signal: AbortSignal, emit: (e: AgentEvent) => void) => Promise<RunResult>,
): AgentRunStream {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const channel = new EventChannel<AgentEvent>(() =>
    controller.abort(new AbortedError('The event stream was closed')),
  );
  const result = go(controller.signal, (e) => channel.push(e)).then(
    (r) => {
      callerSignal?.removeEventListener('abort', onCallerAbort);
      channel.close();
      return r;
    },
    (err: unknown) => {
      callerSignal?.removeEventListener('abort', onCallerAbort);
      channel.fail(err);
      throw err;
    },
  );
  result.catch(() => {}); // the iterator reports it too; an unawaited result must not crash the process
  return { runId, result, [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator]() };
}
