import { rmSync } from 'node:fs';
import type { ManagedProcess } from './managed-process.js';

/**
 * A throwaway server the harness started. Chaos tests use `kill`, `restart`, `pause` and
 * `resume` (SIGKILL, same data dir and port, SIGSTOP, SIGCONT); everyone else only needs
 * `url` and `destroy`.
 */
export interface ServerHandle {
  readonly kind: 'postgres' | 'nats' | 'redis';
  /** Connection URL on loopback. */
  readonly url: string;
  readonly port: number;
  /** Data directory, deleted by `destroy`. */
  readonly dir: string;
  /** Polite stop (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data directory, and waits until ready. */
  restart(): Promise<void>;
  /** SIGSTOP: the process hangs but keeps its sockets. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

/** Builds the common handle around a process and a readiness probe. */
export function makeHandle(
  kind: ServerHandle['kind'],
  url: string,
  port: number,
  dir: string,
  proc: ManagedProcess,
  waitReady: () => Promise<void>,
): ServerHandle {
  return {
    kind,
    url,
    port,
    dir,
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    async restart() {
      await proc.stop();
      proc.start();
      await waitReady();
    },
    pause: () => proc.signal('SIGSTOP'),
    resume: () => proc.signal('SIGCONT'),
    async destroy() {
      proc.signal('SIGCONT');
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it resolves true, or throws with the server log after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  proc: ManagedProcess,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (!proc.running) throw new Error(`${what} exited during start-up. Log:\n${proc.logTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms. Log:\n${proc.logTail()}`);
}
