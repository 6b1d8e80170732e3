import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, type CommandIO, isCommand, processIO } from './command.js';

const COMMANDS_DIR = new URL('./commands/', import.meta.url);

/**
 * Finds every command in `src/commands/` (or `dist/commands/` when built): each `.ts`/`.js`
 * module there (not tests, not declarations) is imported and its {@link Command} exports are
 * collected. Throws when two commands share a name.
 */
export async function loadCommands(dir: URL = COMMANDS_DIR): Promise<Map<string, Command>> {
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => /^[a-z0-9-]+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const commands = new Map<string, Command>();
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (!isCommand(value)) continue;
      if (commands.has(value.name)) throw new Error(`Two commands are named "${value.name}" (${file})`);
      commands.set(value.name, value);
    }
  }
  return commands;
}

function help(commands: Map<string, Command>): string {
  const width = Math.max(0, ...[...commands.keys()].map((n) => n.length));
  const lines = [...commands.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: trellis <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "trellis <command> --help" for a command's options.\n`;
}

/**
 * Runs the CLI: `argv` are the arguments after `trellis`. Resolves to the exit code (0 ok,
 * 1 failure, 2 bad usage); errors are printed, never thrown.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['dead-letters', 'list', '--db', './data/bus.db']);
 * ```
 */
export async function main(
  argv: string[],
  io: CommandIO = processIO,
  commands?: Map<string, Command>,
): Promise<number> {
  const all = commands ?? (await loadCommands());
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(help(all));
    return 0;
  }
  const command = all.get(name);
  if (!command) {
    io.stderr(`trellis: unknown command "${name}"\n\n${help(all)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.stderr(`trellis ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
