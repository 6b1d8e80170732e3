/**
 * `npm start` (embedded) and `npm run start:distributed`: starts the whole shop, prints the
 * banner, and stops everything on Ctrl-C.
 *
 *   npm start -- [--data-dir ./data] [--port 8080] [--port-base 3000] [--logs] [--log-level info]
 *   npm run start:distributed -- [--replicas orders=2,payments=2] [--db-prefix shop]
 */
import { parseArgs, parseReplicas } from './cli-args.js';
import { banner } from './supervisor/banner.js';
import type { ProcessEvent } from './supervisor/shop-process.js';
import { startShop } from './supervisor/start-shop.js';

const HELP = `Usage: npm start -- [options]           (embedded: SQLite files, SQLite bus)
       npm run start:distributed -- [options] (PostgreSQL, NATS JetStream, Redis)

Options:
  --data-dir <dir>        data and logs (default ./data, or DATA_DIR)
  --port <n>              gateway port (default 8080, or GATEWAY_PORT)
  --port-base <n>         services listen on base+1… (default 3000, or SHOP_PORT_BASE; 0 = free ports)
  --replicas <svc=n,…>    replicas per service, e.g. orders=2 (distributed mode)
  --db-prefix <name>      PostgreSQL databases are <name>_<service> (default shop)
  --log-level <level>     level of every process (default info)
  --logs                  also print every process's log lines here
  --no-seed               do not create demo data
  --help

Distributed mode uses DATABASE_URL, NATS_URL and REDIS_URL when set, and otherwise starts
throwaway servers from the machine's binaries.`;

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2), {
    values: ['data-dir', 'port', 'port-base', 'replicas', 'db-prefix', 'log-level'],
    flags: ['distributed', 'logs', 'no-seed', 'help'],
  });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
  process.exit(64);
}
if (args.flag('help')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const mode = args.flag('distributed') ? 'distributed' : 'embedded';
const color = process.stdout.isTTY === true;
const say = (line: string) => process.stdout.write(`${line}\n`);
const onEvent = (e: ProcessEvent) => {
  if (e.kind === 'exited') {
    say(`  ! ${e.id} exited (${e.signal ?? `code ${e.code}`}); restarting in ${e.restartInMs} ms`);
  } else if (e.restarts > 0) {
    say(`  ✓ ${e.id} is back (restart ${e.restarts}, ready in ${e.ms} ms)`);
  }
};

say(`Starting the Trellis shop (${mode} mode)…`);
const shop = await startShop({
  mode,
  dataDir: args.get('data-dir') ?? process.env.DATA_DIR ?? './data',
  gatewayPort: Number(args.get('port') ?? process.env.GATEWAY_PORT ?? 8080),
  portBase: Number(args.get('port-base') ?? process.env.SHOP_PORT_BASE ?? 3000),
  replicas: parseReplicas(args.all('replicas')),
  databasePrefix: args.get('db-prefix') ?? 'shop',
  seed: !args.flag('no-seed'),
  logLevel: args.get('log-level') ?? 'info',
  onEvent,
  ...(args.flag('logs') ? { echo: (id: string, line: string) => say(`[${id}] ${line}`) } : {}),
}).catch((error: unknown) => {
  process.stderr.write(`The shop failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});

say(
  banner(shop.topology, shop.secrets, {
    startupMs: shop.startupMs,
    color,
    ...(shop.infrastructure ? { infrastructure: shop.infrastructure.origin } : {}),
  }),
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\n${signal}: stopping the shop…`);
  await shop.stop();
  say('Stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
