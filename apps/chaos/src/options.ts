/**
 * The command line of `npm run chaos`, parsed with `node:util` and checked with a zod schema,
 * so a bad value is a `ValidationError` that names the option.
 */
import { parseArgs } from 'node:util';
import { ValidationError } from '@trellis/core';
import { z } from 'zod';
import type { ChaosOptions } from './run-chaos.js';

/** The usage text. */
export const HELP = `Usage: npm run chaos -- [options]

Runs chaos experiments against a shop it starts (and removes afterwards): for each, a steady
state under load, a real fault, recovery, the steady state again, and the invariant checker
across every database.

Options:
  --experiments <list>     names or groups, comma-separated (default all): all, ci, process,
                           hang, server, network, dependency, clock, or names from --list
  --mode <mode>            distributed (PostgreSQL, NATS, Redis; default) or embedded (SQLite)
  --replicas <list>        replicas per service, e.g. orders=3,payments=2 (default orders=2;
                           experiments on orders#1 need orders=2 or more)
  --concurrency <n>        orders in flight (default 6)
  --max-orders <n>         orders per phase of an experiment at most (default 1500)
  --steady <s>             each steady-state window (default 5)
  --hold <factor>          multiplies every fault's hold time (default 1)
  --floor <orders/s>       steady state: orders settled per second at least (default 1)
  --max-error-rate <r>     steady state: failed + rejected share at most (default 0.05)
  --recovery-timeout <s>   longest wait for recovery after a fault (default 90)
  --settle <s>             every saga terminal within this long after recovery (default 60)
  --namespaces <mode>      auto (default; required under CI=true), required, off
  --json <file>            also write the report as JSON
  --markdown <file>        also write the report as Markdown (table and every experiment)
  --data-dir <dir>         keep the shop's data and logs there (default: a temporary directory)
  --list                   list the experiments and exit
  --help

Exit codes: 0 every experiment passed, every invariant held; 1 a violation, a failed or aborted
experiment, or nothing ran; 64 bad usage; 69 the machine cannot run a selected experiment;
70 the harness itself failed; 130 interrupted (the shop and servers are stopped first).`;

const positive = z.coerce.number().positive();

/** The options after parsing. */
export const CliSchema = z.object({
  experiments: z
    .string()
    .default('all')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  mode: z.enum(['distributed', 'embedded']).default('distributed'),
  replicas: z
    .string()
    .regex(/^\s*[a-z]+=\d+\s*(,\s*[a-z]+=\d+\s*)*$/, 'expected service=count, comma-separated')
    .transform((s) =>
      Object.fromEntries(
        s.split(',').map((pair) => {
          const [service = '', count = '1'] = pair.split('=').map((x) => x.trim());
          return [service, Number(count)];
        }),
      ),
    )
    .refine((r) => Object.values(r).every((n) => n >= 1 && n <= 8), 'each count must be 1 to 8')
    .optional(),
  concurrency: z.coerce.number().int().min(1).max(200).default(6),
  'max-orders': z.coerce.number().int().min(1).default(1500),
  steady: positive.default(5),
  hold: positive.max(20).default(1),
  floor: z.coerce.number().min(0).default(1),
  'max-error-rate': z.coerce.number().min(0).max(1).default(0.05),
  'recovery-timeout': positive.default(90),
  settle: positive.default(60),
  namespaces: z.enum(['auto', 'required', 'off']).optional(),
  json: z.string().min(1).optional(),
  markdown: z.string().min(1).optional(),
  'data-dir': z.string().min(1).optional(),
  list: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** What the command line asks for. */
export interface CliRequest {
  options: ChaosOptions;
  json: string | undefined;
  markdown: string | undefined;
  list: boolean;
  help: boolean;
}

const STRINGS = [
  'experiments',
  'mode',
  'replicas',
  'concurrency',
  'max-orders',
  'steady',
  'hold',
  'floor',
  'max-error-rate',
  'recovery-timeout',
  'settle',
  'namespaces',
  'json',
  'markdown',
  'data-dir',
] as const;

/**
 * Parses `argv` (without node and script).
 *
 * Throws `ValidationError` naming the option for an unknown option or a bad value.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(STRINGS.map((k) => [k, { type: 'string' as const }])),
        list: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ValidationError((error as Error).message, [{ path: '', message: (error as Error).message }]);
  }
  const parsed = CliSchema.safeParse(values);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'option');
  const v = parsed.data;
  const ci = env.CI === 'true' || env.CI === '1';
  return {
    json: v.json,
    markdown: v.markdown,
    list: v.list,
    help: v.help,
    options: {
      mode: v.mode,
      experiments: v.experiments,
      namespaces: v.namespaces ?? (ci ? 'required' : 'auto'),
      ...(v.replicas ? { replicas: v.replicas } : {}),
      ...(v['data-dir'] ? { dataDir: v['data-dir'] } : {}),
      settings: {
        steady: { minOrdersPerSecond: v.floor, maxErrorRate: v['max-error-rate'] },
        steadyMs: v.steady * 1000,
        holdScale: v.hold,
        recoveryTimeoutMs: v['recovery-timeout'] * 1000,
        settleMs: v.settle * 1000,
        concurrency: v.concurrency,
        maxOrders: v['max-orders'],
      },
    },
  };
}
