import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/** How to launch a server process. */
export interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  /** File that receives the process's stdout and stderr, shown when start-up fails. */
  logFile: string;
  /** Run as this unprivileged user (uid/gid) when the harness itself is root. */
  user?: { uid: number; gid: number };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A child process the harness owns: it can be stopped politely, killed, paused and
 * resumed (chaos tests use the last three).
 */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(readonly spec: LaunchSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const { command, args, user, env, cwd, logFile } = this.spec;
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    // Never leave a server behind if the harness process dies without tearing down.
    registerForExitCleanup(this);
  }

  /** The tail of the process log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exitPromise;
  }

  /** Sends a signal to the server process. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }

  waitForExit(): Promise<void> {
    return this.exitPromise;
  }
}

const live = new Set<ManagedProcess>();
let hooked = false;
function registerForExitCleanup(p: ManagedProcess): void {
  live.add(p);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const proc of live) proc.signal('SIGKILL');
  });
}
