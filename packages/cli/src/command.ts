/**
 * The command contract of the `trellis` CLI. Every module in `src/commands/` exports one or
 * more {@link Command} objects (conventionally `export const command`); the dispatcher finds
 * them by reading that directory, so adding a command means adding one file, no registry to
 * edit.
 *
 * @example
 * ```ts
 * // src/commands/hello.ts
 * export const command: Command = {
 *   name: 'hello',
 *   summary: 'Greets',
 *   usage: 'trellis hello [name]',
 *   async run(args, io) {
 *     io.stdout(`hello ${args[0] ?? 'world'}\n`);
 *     return 0;
 *   },
 * };
 * ```
 */

/** Where a command writes (tests capture it; the binary passes the process streams). */
export interface CommandIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** One top-level command, e.g. `trellis dead-letters …`. */
export interface Command {
  /** The word after `trellis` (kebab-case). */
  name: string;
  /** One line for `trellis help`. */
  summary: string;
  /** Full help text, printed by `trellis <name> --help`. */
  usage: string;
  /**
   * Runs with the arguments after the command name; resolves to the exit code: 0 success,
   * 1 failure, 2 bad usage.
   */
  run(args: string[], io: CommandIO): Promise<number>;
}

/** True when `value` looks like a {@link Command} (used to pick exports out of command modules). */
export function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.name === 'string' &&
    typeof c.summary === 'string' &&
    typeof c.usage === 'string' &&
    typeof c.run === 'function'
  );
}

/** The process's own streams. */
export const processIO: CommandIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** A {@link CommandIO} that collects output in `out` and `err` (for tests). */
export function captureIO(): CommandIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
