/**
 * Secrets never leak: a full run of the shop (embedded, and distributed on real PostgreSQL,
 * NATS JetStream and Redis) driven through real flows with known secrets — passwords, the
 * session tokens issued, the internal tokens read off the wire between processes, card
 * numbers, the model's API key, the installation's signing secrets, forged credentials — and
 * then a grep of everything the run left behind: every process's log (at debug level), every
 * trace and ops answer, every answer the shop gave, every file of the data directory byte for
 * byte, every row of every table, the JetStream store on disk and Redis. Each capture path is
 * first shown to catch a canary planted through it, so a clean result means something.
 */
import { serverUrl } from '@trellis/testing';
import { jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { runShopForSecrets, type SecretsRun } from './secrets-run.js';
import { findLeaks, placesOf } from './secrets-scan.js';

const postgres = serverUrl('postgres');
const canRunDistributed = Boolean(postgres && serverUrl('nats') && serverUrl('redis'));

function secretsProof(mode: 'embedded' | 'distributed') {
  let run: SecretsRun;
  beforeAll(async () => {
    run = await runShopForSecrets(mode, postgres);
  }, 600_000);

  it('catches a canary planted through each capture path (the grep can fail)', () => {
    const { evidence, canaries } = run;
    const logs = (where: string) => where.startsWith('file logs/') || where.startsWith('stdout');
    expect(placesOf(evidence, canaries.log).filter(logs), 'in the logs').not.toEqual([]);
    expect(
      placesOf(evidence, canaries.trace).filter((w) => w.startsWith('trace ')),
      'in a trace',
    ).not.toEqual([]);
    expect(
      placesOf(evidence, canaries.table).filter((w) => w === 'table users.shop_users'),
      'in a table',
    ).not.toEqual([]);
    const bus =
      mode === 'embedded' ? (w: string) => w.startsWith('table bus.') : (w: string) => w.startsWith('nats ');
    expect(placesOf(evidence, canaries.event).filter(bus), 'on the bus').not.toEqual([]);
    expect(
      placesOf(evidence, canaries.event).filter((w) => w.startsWith('table orders.')),
      'in the event store',
    ).not.toEqual([]);
    if (mode === 'embedded')
      expect(
        placesOf(evidence, canaries.table).filter((w) => w.startsWith('file users.db')),
        'in the raw files',
      ).not.toEqual([]);
    else {
      // The gateway keeps each signed-in user's rate-limit bucket in Redis, under their id.
      const first = run.users[0]?.id ?? 'none';
      expect(
        placesOf(evidence, first).filter((w) => w.startsWith('redis ')),
        'in Redis',
      ).not.toEqual([]);
    }
    expect(
      placesOf(evidence, canaries.trace).filter((w) => w.startsWith('answer ')),
      'in an answer',
    ).not.toEqual([]);
    const deadLetters = evidence.filter((e) => e.where.startsWith('table ') && /dead/i.test(e.where));
    expect(
      deadLetters.filter((e) => e.text.includes(run.deadLetterId)).map((e) => e.where),
      'a dead letter in its table',
    ).not.toEqual([]);
    // A leak is reported with its place, and the report does not repeat the secret.
    const planted = findLeaks(evidence, [{ name: 'canary', value: canaries.log }]);
    expect(planted.length).toBeGreaterThan(0);
    expect(planted.every((l) => !l.context.includes(canaries.log))).toBe(true);
  });

  it('read the internal tokens that really travelled between the processes', async () => {
    // The gateway's user identities, the services' own, the console's: all genuine.
    expect(run.internalTokens.length).toBeGreaterThan(3);
    const key = new TextEncoder().encode(run.internalSecret);
    const kinds = new Set<string>();
    for (const token of run.internalTokens.filter((x) => x.split('.').length === 3).slice(0, 50)) {
      const { payload } = await jwtVerify(token, key, { audience: 'trellis-internal' }).catch(() => ({
        payload: {} as Record<string, unknown>,
      }));
      if (typeof payload.kind === 'string') kinds.add(payload.kind);
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['service', 'user']));
  });

  it('finds no secret in any log, trace, event, table, file, store or answer where it does not belong', () => {
    const leaks = findLeaks(run.evidence, run.secrets);
    expect(leaks.map((l) => `${l.secret} in ${l.where}: …${l.context}…`)).toEqual([]);
    // What was searched, so a silently empty capture cannot pass.
    expect(run.secrets.length).toBeGreaterThan(40);
    expect(run.evidence.filter((e) => e.where.startsWith('table ')).length).toBeGreaterThan(20);
    expect(run.evidence.filter((e) => e.where.startsWith('trace ')).length).toBeGreaterThan(5);
  });

  it('hands each process only the secrets it needs, not the whole environment of the operator', () => {
    const ids = Object.keys(run.environs);
    expect(ids).toEqual(expect.arrayContaining(['gateway', 'users', 'catalog', 'orders', 'assistant']));
    for (const [id, env] of Object.entries(run.environs)) {
      const service = id.split('#')[0];
      expect(env.INTERNAL_TOKEN_SECRET, `${id} verifies internal tokens`).toBe(run.internalSecret);
      expect('JWT_SECRET' in env, `${id} has JWT_SECRET`).toBe(service === 'users' || service === 'gateway');
      expect('DEMO_ADMIN_PASSWORD' in env, `${id} has the demo passwords`).toBe(service === 'users');
      expect('OPENAI_API_KEY' in env, `${id} has the model key`).toBe(service === 'assistant');
    }
  });

  it('keeps passwords only as scrypt hashes and cards only as brand and last four', () => {
    const users = run.evidence.find((e) => e.where === 'table users.shop_users')?.text ?? '';
    const rows = users.split('\n').map((l) => JSON.parse(l) as { email: string; password_hash: string });
    for (const u of run.users) {
      expect(rows.find((r) => r.email === u.email)?.password_hash).toMatch(/^scrypt\$/);
    }
    const payments = run.evidence.filter((e) => e.where.startsWith('table payments.')).map((e) => e.text);
    expect(payments.join('\n')).not.toMatch(/"(number|cvc|card_number|pan)"\s*:/i);
  });
}

describe('secrets never leak (embedded)', () => secretsProof('embedded'));
describe.skipIf(!canRunDistributed)('secrets never leak (distributed)', () => secretsProof('distributed'));
