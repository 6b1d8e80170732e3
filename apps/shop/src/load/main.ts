/**
 * `npm run load -- --orders 2000 --concurrency 50`: places orders through the running shop's
 * gateway with a live progress bar, prints throughput, latency percentiles and outcomes, then
 * checks every invariant across the services' databases. Exits 1 on any violation.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from '../cli-args.js';
import { checkInvariants, formatInvariantReport } from '../invariants/check-invariants.js';
import { loadOrCreateSecrets, secretsFile } from '../supervisor/secrets.js';
import { readTopology } from '../supervisor/topology.js';
import { formatLoadResult, runLoad } from './load-run.js';

const HELP = `Usage: npm run load -- [options]

Options:
  --orders <n>          orders to place (default 200)
  --concurrency <n>     requests in flight (default 20)
  --users <n>           customers signed up for the run (default 10)
  --decline-rate <r>    share of orders paid with a declined card (default 0.05)
  --data-dir <dir>      the shop's data directory (default ./data, or DATA_DIR)
  --gateway <url>       gateway URL (default: from the shop's topology.json)
  --json <file>         also write the results as JSON
  --no-restock          do not top up stock before the run (orders may be turned away)
  --scarce              also order the scarce product (out-of-stock rejections)
  --no-check            skip the invariant check
  --help`;

let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2), {
    values: ['orders', 'concurrency', 'users', 'decline-rate', 'data-dir', 'gateway', 'json'],
    flags: ['no-restock', 'scarce', 'no-check', 'help'],
  });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
  process.exit(64);
}
if (args.flag('help')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const dataDir = args.get('data-dir') ?? process.env.DATA_DIR ?? './data';
const topology = readTopology(dataDir);
const secrets = existsSync(secretsFile(topology.dataDir)) ? loadOrCreateSecrets(topology.dataDir) : undefined;
const orders = Number(args.get('orders') ?? 200);
const concurrency = Number(args.get('concurrency') ?? 20);

const result = await runLoad({
  gatewayUrl: args.get('gateway') ?? topology.gatewayUrl,
  orders,
  concurrency,
  users: Number(args.get('users') ?? 10),
  declineRate: Number(args.get('decline-rate') ?? 0.05),
  ...(secrets && !args.flag('no-restock') ? { adminPassword: secrets.demo.admin } : {}),
  includeScarce: args.flag('scarce'),
});
process.stdout.write(
  `${formatLoadResult(result, `Load: ${result.attempted} orders, concurrency ${concurrency}, ${topology.mode} mode`)}\n\n`,
);

let ok = true;
let invariants: unknown;
if (!args.flag('no-check')) {
  process.stdout.write('Checking invariants across every database…\n');
  const report = await checkInvariants({ topology, expectedOrderIds: result.acceptedOrderIds });
  invariants = report;
  ok = report.ok;
  process.stdout.write(`${formatInvariantReport(report)}\n`);
}
const json = args.get('json');
if (json)
  writeFileSync(
    json,
    `${JSON.stringify({ mode: topology.mode, load: { ...result, acceptedOrderIds: undefined }, invariants }, null, 2)}\n`,
  );
process.exit(ok ? 0 : 1);
