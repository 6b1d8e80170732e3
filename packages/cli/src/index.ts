/**
 * @trellis/cli: the `trellis` command line. Commands live in `src/commands/` (one file each,
 * exporting a {@link Command}); `main` dispatches to them.
 */
export { type Command, type CommandIO, captureIO, isCommand, processIO } from './command.js';
export { loadCommands, main } from './main.js';
