/**
 * Tiny argument parsing for the shop's command-line entry points (`--name value`,
 * `--name=value`, `--flag`, repeated options), with a clear error for unknown options.
 */

/** Parsed arguments: the last value wins, `all` keeps every value. */
export interface ParsedArgs {
  get(name: string): string | undefined;
  all(name: string): string[];
  flag(name: string): boolean;
}

/**
 * Parses `argv` (without node and the script).
 *
 * Throws `Error` naming an option not in `known`.
 */
export function parseArgs(argv: readonly string[], known: { values: string[]; flags: string[] }): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}"`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (known.flags.includes(rawName)) {
      flags.add(rawName);
      continue;
    }
    if (!known.values.includes(rawName)) throw new Error(`Unknown option --${rawName}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${rawName} needs a value`);
    values.set(rawName, [...(values.get(rawName) ?? []), value]);
  }
  return {
    get: (name) => values.get(name)?.at(-1),
    all: (name) => values.get(name) ?? [],
    flag: (name) => flags.has(name),
  };
}

/**
 * `orders=2,payments=2` (or several `--replicas` values) → `{ orders: 2, payments: 2 }`.
 *
 * Throws `Error` for a malformed entry.
 */
export function parseReplicas(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of values.flatMap((v) => v.split(',')).filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(entry.trim());
    if (!m) throw new Error(`--replicas expects service=count, got "${entry}"`);
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}
