/**
 * The environment every shop service process reads, checked with a zod schema at start-up.
 * The supervisor fills it; running one service by hand means setting the same variables.
 */
import { serviceConfigSchema } from '@trellis/service';
import { z } from 'zod';

const upstreams = z
  .string()
  .default('{}')
  .transform((s, ctx) => {
    try {
      return z.record(z.string(), z.array(z.url()).min(1)).parse(JSON.parse(s));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected JSON like {"users":["http://127.0.0.1:3001"]}' });
      return z.NEVER;
    }
  });

const bool = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

/**
 * Variables of a shop service process (beyond {@link serviceConfigSchema}'s `PORT`, `HOST`,
 * `LOG_LEVEL`, `INTERNAL_AUTH`, `INTERNAL_TOKEN_SECRET`…).
 *
 * | variable | meaning |
 * |---|---|
 * | `SHOP_MODE` | `embedded` (SQLite files, SQLite bus) or `distributed` (PostgreSQL, NATS) |
 * | `DATA_DIR` | where embedded databases live (`<DATA_DIR>/<service>.db`, `<DATA_DIR>/bus.db`) |
 * | `DATABASE_URL` | this service's own PostgreSQL database (distributed) |
 * | `PG_QUERY_TIMEOUT_MS` | client-side limit per statement (distributed), default 10000, 0 = none |
 * | `PG_CONNECT_TIMEOUT_MS` | limit on getting a connection (distributed), default 10000, 0 = none |
 * | `NATS_URL` | NATS JetStream (distributed) |
 * | `SHOP_BUS_NAMESPACE` | NATS stream (upper-cased) and subject prefix, default `shop` |
 * | `SHOP_REPLICA` | replica index, part of the saga worker id |
 * | `SHOP_UPSTREAMS` | JSON map service → instance URLs, for service-to-service calls |
 * | `JWT_SECRET` | HS256 secret of the user JWTs (users signs, the gateway verifies) |
 * | `SHOP_SEED` | create the demo data when the database is empty |
 * | `SHOP_CLOCK_OFFSET_MS` | skew this process's clock by this many ms (chaos experiments) |
 */
export const shopConfigSchema = serviceConfigSchema.extend({
  SHOP_MODE: z.enum(['embedded', 'distributed']).default('embedded'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().min(1).optional(),
  /**
   * A statement PostgreSQL does not answer within this many ms fails with DB_TIMEOUT (503) and
   * its connection is dropped, so a replica cut off from its database answers instead of holding
   * requests until the link is back. Generous by default: a loaded 2-core CI machine running the
   * whole suite must never hit it on a healthy database. 0 turns it off.
   */
  PG_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** How long to wait for a PostgreSQL connection (pool checkout or connect), ms; 0 = for ever. */
  PG_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  NATS_URL: z.string().min(1).optional(),
  /** NATS stream and subject prefix (several shops can share one NATS server). */
  SHOP_BUS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _')
    .default('shop'),
  SHOP_REPLICA: z.coerce.number().int().min(0).default(0),
  SHOP_UPSTREAMS: upstreams,
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SHOP_SEED: bool,
  INTERNAL_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters'),
  DEMO_ALICE_PASSWORD: z.string().min(8).optional(),
  DEMO_ADMIN_PASSWORD: z.string().min(8).optional(),
  /** Access log level (`info` logs every request). */
  ACCESS_LOG: z.enum(['info', 'debug']).default('debug'),
  /** How long POST /orders waits for the saga before answering 202 (ms). */
  ORDER_WAIT_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Runs this process's clock this many ms ahead (negative: behind) of the machine's, for the
   * chaos harness's clock-skew experiment: everything the service times or stamps reads
   * `ctx.clock` (saga leases, token checks, idempotency claims, event times). Default 0.
   */
  SHOP_CLOCK_OFFSET_MS: z.coerce.number().int().min(-86_400_000).max(86_400_000).default(0),
});

/** The parsed shop configuration. */
export type ShopConfig = z.output<typeof shopConfigSchema>;
