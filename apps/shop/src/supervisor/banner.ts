/**
 * The start-up banner: where the gateway is, the demo credentials, and commands to try. Plain
 * text (colours only on a terminal), so it also reads well in a log file.
 */
import { relative } from 'node:path';
import { DEMO_ADDRESS, DEMO_USERS } from '../demo-data.js';
import type { ShopSecrets } from './secrets.js';
import type { Topology } from './topology.js';

/** Builds the banner lines. */
export function banner(
  t: Topology,
  secrets: ShopSecrets,
  options: { startupMs: number; color?: boolean; infrastructure?: Record<string, string> },
): string {
  const c = (code: number, s: string) => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const bold = (s: string) => c(1, s);
  const dim = (s: string) => c(2, s);
  const gw = t.gatewayUrl;
  const rel = relative(process.cwd(), t.dataDir);
  const data = rel === '' ? '.' : rel.startsWith('..') ? t.dataDir : rel;
  const services = t.instances
    .map((i) => `${i.service}${i.replica ? `#${i.replica}` : ''} :${i.port}`)
    .join('  ');
  const address = JSON.stringify(DEMO_ADDRESS);
  const lines = [
    '',
    `  ${bold('Trellis shop')} is running in ${bold(t.mode)} mode ${dim(`(ready in ${(options.startupMs / 1000).toFixed(1)} s)`)}`,
    '',
    `  Gateway      ${c(36, gw)}   ${dim('every API is under /api')}`,
    `  Services     ${services}`,
    t.mode === 'embedded'
      ? `  Data         ${data}/  ${dim('(one SQLite file per service, bus.db, logs/)')}`
      : `  Data         PostgreSQL (one database per service), NATS JetStream, Redis ${dim(`(logs in ${data}/logs)`)}`,
    ...Object.entries(options.infrastructure ?? {}).map(([k, v]) => `  ${k.padEnd(12)} ${v}`),
    '',
    `  Demo users   ${DEMO_USERS.alice.email}  password ${bold(secrets.demo.alice)}  ${dim('(customer)')}`,
    `               ${DEMO_USERS.admin.email}  password ${bold(secrets.demo.admin)}  ${dim('(admin)')}`,
    '',
    '  Try it:',
    `    curl -s ${gw}/api/products?limit=3`,
    `    TOKEN=$(curl -s -X POST ${gw}/api/auth/login -H 'content-type: application/json' \\`,
    `      -d '{"email":"${DEMO_USERS.alice.email}","password":"${secrets.demo.alice}"}' | sed -E 's/.*"token":"([^"]+)".*/\\1/')`,
    `    curl -s -X POST ${gw}/api/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `      -H "idempotency-key: $(date +%s%N)" \\`,
    `      -d '{"items":[{"productId":"p-espresso-beans","quantity":1}],"paymentMethod":"pm_card_visa","shippingAddress":${address}}'`,
    `    curl -s ${gw}/api/orders -H "authorization: Bearer $TOKEN"`,
    `    curl -s -X POST ${gw}/api/assistant/chat -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `      -d '{"message":"What did I order?"}'   ${dim('# the assistant (503 until a model is set: ANTHROPIC_API_KEY, OPENAI_API_KEY…)')}`,
    `    npm run load -- --orders 500 --concurrency 20     ${dim('# load + invariant check')}`,
    '',
    `  ${dim('Ctrl-C stops everything; the data survives a restart.')}`,
    '',
  ];
  return lines.join('\n');
}
