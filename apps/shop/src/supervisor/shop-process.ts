/**
 * One supervised process (a service replica or the gateway): spawned with its environment,
 * output appended to its log file (and optionally echoed with a prefix), ready when its
 * health endpoint answers 200, restarted with exponential back-off when it dies without being
 * asked to, stopped with SIGTERM (then SIGKILL after a grace period).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

/** How to run one process. */
export interface ProcessSpec {
  /** `orders#1`, `gateway`… */
  id: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /**
   * Variables of the supervisor's own environment this process does not inherit (secrets
   * meant for other processes); `env` still sets any of them explicitly.
   */
  withhold?: readonly string[];
  cwd: string;
  logFile: string;
  /** The port it listens on (checked free before the first start). */
  port: number;
  /** GET this URL until it answers 200 to call the process ready. */
  readyUrl: string;
  /** Longest wait for readiness before the start counts as failed. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * The child reports the port it bound over an IPC channel (see `announceListening`), and the
   * readiness probe counts only after that report from the current child. Ports are picked
   * free and then released before the child binds them, so without it another process that
   * took the port meanwhile (another shop under test) could answer the probe for a child that
   * died on `EADDRINUSE`.
   */
  announces?: boolean;
}

/** The IPC message a child sends once it listens (see {@link ProcessSpec.announces}). */
export interface ListeningAnnouncement {
  kind: 'trellis:listening';
  port: number;
}

function isAnnouncement(m: unknown): m is ListeningAnnouncement {
  return (
    typeof m === 'object' &&
    m !== null &&
    (m as { kind?: unknown }).kind === 'trellis:listening' &&
    typeof (m as { port?: unknown }).port === 'number'
  );
}

/**
 * Called by a supervised child once its server is bound to `port`: tells the supervisor over
 * the IPC channel it was started with (nothing happens without one), then lets the channel
 * stop holding the process open.
 */
export function announceListening(port: number): void {
  if (!process.send) return;
  const message: ListeningAnnouncement = { kind: 'trellis:listening', port };
  process.send(message);
  process.channel?.unref();
}

/** What happened to a process, for the supervisor's console lines. */
export type ProcessEvent =
  | { kind: 'ready'; id: string; ms: number; restarts: number }
  | {
      kind: 'exited';
      id: string;
      code: number | null;
      signal: string | null;
      restartInMs: number | undefined;
    };

const MAX_BACKOFF_MS = 10_000;
/** Spawns a start may take before it fails (the first one plus restarts). */
const START_ATTEMPTS = 3;
/** A process that stayed up this long has its back-off reset. */
const STABLE_MS = 30_000;

/** A supervised process. */
export class ShopProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: WriteStream | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private startedAt = 0;
  /** Times the process was restarted after dying. */
  restarts = 0;
  private readyWaiters: Array<() => void> = [];
  private isReady = false;
  /** The port the current child announced it bound (only with `spec.announces`). */
  private announcedPort: number | undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly onEvent: (event: ProcessEvent) => void = () => {},
    private readonly echo?: (id: string, line: string) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get ready(): boolean {
    return this.isReady && this.running;
  }

  /** Spawns the process and waits until it is ready. Throws when it dies three times or times out first. */
  async start(): Promise<void> {
    this.stopping = false;
    const before = this.restarts;
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? 60_000);
    this.spawn();
    try {
      await this.waitReady();
    } catch (error) {
      // A dependency that is not up yet (a database still starting) is survived the way any
      // crash is: restarted with back-off. Only repeated failures fail the start.
      while (!this.ready) {
        if (this.restarts - before >= START_ATTEMPTS - 1 && !this.running) throw error;
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Resolves the next time the process becomes ready (now, when it is). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Sends a signal (chaos: SIGKILL, SIGSTOP, SIGCONT). A killed process is restarted. */
  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid !== undefined && this.running) this.child.kill(signal);
  }

  /** SIGTERM, SIGKILL after `graceMs`; no restart. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.running) {
      this.child?.kill('SIGCONT');
      this.child?.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  private spawn(): void {
    const { spec } = this;
    mkdirSync(dirname(spec.logFile), { recursive: true });
    this.log ??= createWriteStream(spec.logFile, { flags: 'a' });
    this.isReady = false;
    this.announcedPort = undefined;
    this.startedAt = Date.now();
    const inherited = { ...process.env };
    for (const name of spec.withhold ?? []) delete inherited[name];
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...inherited, ...spec.env, SHOP_SUPERVISOR_PID: String(process.pid) },
      stdio: spec.announces ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches the supervisor only, which stops children in order.
      detached: true,
    });
    this.child = child;
    if (spec.announces) {
      child.on('message', (m) => {
        if (this.child === child && isAnnouncement(m)) this.announcedPort = m.port;
      });
      // The channel must not keep the supervisor alive.
      child.channel?.unref();
    }
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const lines = createInterface({ input: stream });
      lines.on('line', (line) => {
        this.log?.write(`${line}\n`);
        this.echo?.(spec.id, line);
      });
    }
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.isReady = false;
        resolve();
        if (this.stopping) return;
        const stable = Date.now() - this.startedAt > STABLE_MS;
        this.failures = stable ? 1 : this.failures + 1;
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.failures - 1));
        this.onEvent({ kind: 'exited', id: spec.id, code, signal, restartInMs: delay });
        this.restartTimer = setTimeout(() => {
          this.restarts++;
          this.spawn();
          this.waitReady().catch(() => undefined);
        }, delay);
      }),
    );
  }

  private async waitReady(): Promise<void> {
    const started = Date.now();
    const deadline = started + (this.spec.readyTimeoutMs ?? 60_000);
    const child = this.child;
    while (Date.now() < deadline) {
      if (this.child !== child || !this.running)
        throw new Error(`${this.spec.id} exited during start-up (see ${this.spec.logFile})`);
      // Whatever answers on the port before the child said it bound it is not the child.
      const bound = !this.spec.announces || this.announcedPort === this.spec.port;
      const ok =
        bound &&
        (await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(1000) }).then(
          (r) => {
            void r.body?.cancel();
            return r.ok;
          },
          () => false,
        ));
      if (ok) {
        this.isReady = true;
        this.onEvent({ kind: 'ready', id: this.spec.id, ms: Date.now() - started, restarts: this.restarts });
        for (const w of this.readyWaiters.splice(0)) w();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `${this.spec.id} not ready after ${this.spec.readyTimeoutMs ?? 60_000} ms (see ${this.spec.logFile})`,
    );
  }
}
