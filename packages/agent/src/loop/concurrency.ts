import { AbortedError } from '@trellis/core';
import type { Policy, Work } from '@trellis/resilience';

/**
 * Bounds how many tool calls of one run execute at once; the rest wait in order. A slot is
 * released only when the work itself settles (it runs inside the tool's timeout), so a tool
 * that ignores its abort signal keeps its slot until it really ends (resilience4j #905).
 */
export class ConcurrencyLimit implements Policy {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly max: number) {}

  async execute<T>(fn: Work<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn(signal ?? new AbortController().signal);
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.queue.indexOf(grant);
        if (i !== -1) this.queue.splice(i, 1);
        reject(signal?.reason ?? new AbortedError());
      };
      this.queue.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }
}
