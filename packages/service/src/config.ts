/**
 * Configuration from the environment, checked against a zod schema at start-up. A bad
 * configuration stops the process with one clear line per problem instead of failing later
 * in some request path.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Variables to read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Only variables starting with this prefix are read, with the prefix removed: with
   * `prefix: 'ORDERS_'`, `ORDERS_PORT` fills `PORT`. Unprefixed variables are ignored.
   */
  prefix?: string;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  env: Record<string, string | undefined>,
  prefix: string,
): string {
  const key = issue.path.map(String).join('.');
  const name = `${prefix}${key}`;
  const value = env[name];
  const got =
    value === undefined
      ? 'not set'
      : `got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return key ? `${name}: ${issue.message} (${got})` : issue.message;
}

/**
 * Parses the environment with `schema` (usually a `z.object` of `z.coerce`/`z.string` fields
 * with defaults).
 *
 * Throws `ConfigError` listing every bad or missing variable.
 *
 * @example
 * ```ts
 * const config = loadConfig(serviceConfigSchema.extend({ DATABASE_URL: z.url() }));
 * ```
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions = {}): z.output<S> {
  const source = options.env ?? process.env;
  const prefix = options.prefix ?? '';
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(source)) {
    if (!prefix) env[k] = v === '' ? undefined : v;
    else if (k.startsWith(prefix)) env[k.slice(prefix.length)] = v === '' ? undefined : v;
  }
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((i) => describeIssue(i, source, prefix)),
    { cause: parsed.error },
  );
}

/**
 * Like {@link loadConfig}, but a bad configuration prints the problems and exits the process
 * (code 78, `EX_CONFIG`), as a service should at start-up.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  schema: S,
  options: LoadConfigOptions & { exit?: (code: number) => never; print?: (message: string) => void } = {},
): z.output<S> {
  try {
    return loadConfig(schema, options);
  } catch (error) {
    const print = options.print ?? ((m: string) => process.stderr.write(`${m}\n`));
    print(error instanceof ConfigError ? error.message : String(error));
    return (options.exit ?? process.exit)(78);
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * The variables every Trellis service understands. Extend it with your own.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `PORT` | 3000 | listen port (0 = any free port) |
 * | `HOST` | 127.0.0.1 | listen address |
 * | `LOG_LEVEL` | info | pino level |
 * | `SHUTDOWN_TIMEOUT_MS` | 10000 | graceful shutdown deadline |
 * | `OTEL_EXPORTER_OTLP_ENDPOINT` | – | OTLP/HTTP collector; traces export there when set |
 * | `TRACE_SAMPLE_RATIO` | 1 | share of new traces recorded |
 * | `INTERNAL_AUTH` | off | `off`, `optional` or `required` internal identity tokens |
 * | `INTERNAL_TOKEN_SECRET` | – | HS256 secret of internal identity tokens (≥ 32 bytes) |
 * | `METRICS` | true | serve `/metrics` |
 */
export const serviceConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  INTERNAL_AUTH: z.enum(['off', 'optional', 'required']).default('off'),
  INTERNAL_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  METRICS: bool.default(true),
});

/** The parsed {@link serviceConfigSchema}. */
export type ServiceConfig = z.output<typeof serviceConfigSchema>;
