/**
 * SQL injection changes nothing: every payload of `injection-payloads.ts` in every string
 * field, query and path parameter of every public route and every assistant tool argument,
 * through the gateway as a customer and as an admin — first against the distributed shop on
 * real PostgreSQL, NATS and Redis (where the statement watcher also samples what PostgreSQL
 * ran), then against the embedded shop on SQLite with a cross-section of the payloads. See
 * `injection-suite.ts` for the checks.
 */
import { OpenAISimulator } from '@trellis/agent/testing';
import { serverUrl } from '@trellis/testing';
import { afterAll, beforeAll } from 'vitest';
import { startTestShop } from '../e2e/test-shop.js';
import { INJECTION_SAMPLE } from './injection-payloads.js';
import { describeInjection } from './injection-suite.js';

const postgres = serverUrl('postgres');
const nats = serverUrl('nats');
const redis = serverUrl('redis');

let sim: OpenAISimulator;
beforeAll(async () => {
  sim = await OpenAISimulator.start({ apiKey: 'sk-injection' });
  // Every model call gets a plain answer: chat messages are payloads, not instructions.
  sim.enqueue(...Array.from({ length: 2000 }, () => ({ text: 'Noted.' })));
});
afterAll(async () => {
  await sim?.close();
});

const serviceEnv = () => ({
  TRELLIS_AGENT_PROVIDER: 'openai',
  OPENAI_API_KEY: 'sk-injection',
  OPENAI_BASE_URL: sim.url,
  OPENAI_MODEL: 'gpt-injection',
  ORDER_WAIT_MS: '5000',
});
// Per-user limits would answer most requests 429: allowed, but then nothing is attacked.
const gatewayEnv = { RATE_LIMIT_CAPACITY: '1000000', RATE_LIMIT_PER_SECOND: '1000000' };

describeInjection(
  'SQL injection, distributed shop on PostgreSQL',
  {
    start: () =>
      startTestShop({
        mode: 'distributed',
        env: { ...process.env, DATABASE_URL: postgres, NATS_URL: nats, REDIS_URL: redis },
        databasePrefix: `injection_${process.pid}`,
        serviceEnv: serviceEnv(),
        gatewayEnv,
      }),
    ...(postgres ? { postgresUrl: postgres } : {}),
  },
  !postgres || !nats || !redis,
);

describeInjection('SQL injection, embedded shop on SQLite', {
  start: () => startTestShop({ serviceEnv: serviceEnv(), gatewayEnv }),
  payloads: INJECTION_SAMPLE,
});
