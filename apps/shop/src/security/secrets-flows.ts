/**
 * The flows the secrets test drives through the gateway, each with secrets it knows: sign-ups
 * and log-ins with distinctive passwords (and the session tokens they issue), the wrong ways to
 * log in, saved cards with full card numbers and the malformed ones, orders paid with them,
 * forged and expired tokens, and the assistant. Every answer is kept as evidence: errors are
 * where secrets leak.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { DEMO_ADDRESS, DEMO_USERS } from '../demo-data.js';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../services/users/user-tokens.js';
import type { ShopSecrets } from '../supervisor/secrets.js';
import { loopbackAddresses, type RawResponse, send } from './raw-http.js';
import type { Evidence } from './secrets-capture.js';
import { type KnownSecret, randomCardNumber } from './secrets-scan.js';

const rnd = (n = 9) => randomBytes(n).toString('hex');

/** A customer the flows created. */
export interface FlowUser {
  id: string;
  email: string;
  token: string;
}

/** Calls the gateway, keeping every answer as evidence under a unique label. */
export class RecordingClient {
  readonly answers: Evidence[] = [];
  private n = 0;
  private readonly addresses = loopbackAddresses(64);

  constructor(private readonly gatewayUrl: string) {}

  /** Sends one request; returns the answer and the label it was recorded under. */
  async call(
    method: string,
    path: string,
    o: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<RawResponse & { label: string }> {
    const label = `answer #${++this.n} ${method} ${path.split('?')[0]}`;
    const body = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const res = await send(this.gatewayUrl, {
      method,
      path,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        ...o.headers,
      },
      ...(body !== undefined ? { body } : {}),
      // Log-in and sign-up are limited per IP: spread the calls over loopback addresses.
      localAddress: this.addresses[this.n % this.addresses.length],
      timeoutMs: 90_000,
    });
    this.answers.push({ where: label, text: `${res.status} ${JSON.stringify(res.headers)}\n${res.text}` });
    return { ...res, label };
  }
}

/** The error paths must really be taken: a flow that quietly succeeded would prove nothing. */
function expectStatus(res: RawResponse & { label: string }, status: number): void {
  if (res.status !== status)
    throw new Error(`${res.label}: expected ${status}, got ${res.status} ${res.text.slice(0, 200)}`);
}

const tokenOf = (res: RawResponse) => (res.json as { token?: string } | undefined)?.token;
const idOf = (res: RawResponse) => res.json as { user?: { id?: string }; id?: string } | undefined;

/** Runs the user, card, order and token flows; returns the customers, saved methods and secrets used. */
export async function userAndCardFlows(
  http: RecordingClient,
  shop: ShopSecrets,
): Promise<{ users: FlowUser[]; admin: string; secrets: KnownSecret[]; methods: string[] }> {
  const secrets: KnownSecret[] = [];
  // A session token belongs in the answers that issued it (a sign-up and a log-in in the same
  // second issue the very same token: same claims, same second).
  const issuedBy = new Map<string, Set<string>>();
  const issued = (name: string, res: RawResponse & { label: string }) => {
    const token = tokenOf(res);
    if (!token) throw new Error(`${res.label}: no token (${res.status} ${res.text.slice(0, 200)})`);
    const labels = issuedBy.get(token) ?? new Set<string>();
    labels.add(res.label);
    issuedBy.set(token, labels);
    secrets.push({ name, value: token, allowedIn: (where) => labels.has(where) });
    return token;
  };
  const password = (name: string) => {
    const value = `Pw-${rnd()}-secret`;
    secrets.push({ name, value });
    return value;
  };

  const users: FlowUser[] = [];
  for (let i = 0; i < 3; i++) {
    const email = `secrets-${i}-${rnd(4)}@example.test`;
    const pw = password(`password of customer ${i}`);
    const signup = await http.call('POST', '/api/auth/signup', {
      body: { email, password: pw, name: `Customer ${i}` },
    });
    issued(`session token from sign-up ${i}`, signup);
    const login = await http.call('POST', '/api/auth/login', { body: { email, password: pw } });
    const token = issued(`session token from log-in ${i}`, login);
    users.push({ id: idOf(login)?.user?.id ?? '', email, token });
  }
  const first = users[0] as FlowUser;

  // The wrong ways in: each carries a password of its own that must not show up anywhere.
  const wrong = [
    { email: first.email, password: password('wrong password') },
    { email: `nobody-${rnd(4)}@example.test`, password: password('password of an unknown email') },
  ];
  for (const body of wrong) expectStatus(await http.call('POST', '/api/auth/login', { body }), 401);
  await http.call('POST', '/api/auth/signup', {
    body: { email: first.email, password: password('password of a duplicate sign-up'), name: 'Again' },
  });
  await http.call('POST', '/api/auth/signup', {
    body: { email: 'not-an-email', password: password('password of a malformed sign-up'), name: 'X' },
  });
  await http.call('POST', '/api/auth/signup', {
    body: {
      email: `long-${rnd(4)}@example.test`,
      password: password('over-long password').repeat(12),
      name: 'X',
    },
  });
  // Malformed JSON: the parser's complaint must not quote the body back. (V8's message for an
  // unexpected token quotes about ten characters around it: a short unquoted value whole.)
  const truncated = password('password in a truncated JSON body');
  const unquoted = `zq${rnd(4)}`;
  secrets.push({ name: 'unquoted password in a malformed JSON body', value: unquoted });
  const badJson = [
    `{"email":"${first.email}","password":"${truncated}"`,
    `{"email":"${first.email}","password": ${unquoted}}`,
  ];
  for (const rawBody of badJson) expectStatus(await http.call('POST', '/api/auth/login', { rawBody }), 400);

  // The demo users log in with the installation's passwords.
  const alice = await http.call('POST', '/api/auth/login', {
    body: { email: DEMO_USERS.alice.email, password: shop.demo.alice },
  });
  issued('session token of alice', alice);
  const adminLogin = await http.call('POST', '/api/auth/login', {
    body: { email: DEMO_USERS.admin.email, password: shop.demo.admin },
  });
  const admin = issued('session token of admin', adminLogin);

  // Cards: saved ones (only brand and last four may remain) and every way of getting one wrong.
  const card = (name: string, number: string) => {
    secrets.push({ name, value: number });
    return number;
  };
  const methods: string[] = [];
  const saved = [
    card('card number (spaced)', randomCardNumber('4').replace(/(\d{4})(?=\d)/g, '$1 ')),
    card('card number (dashed)', randomCardNumber('52').replace(/(\d{4})(?=\d)/g, '$1-')),
    card('card number (digits)', randomCardNumber('4', 19)),
  ];
  for (const [i, number] of saved.entries()) {
    const res = await http.call('POST', '/api/payment-methods', {
      token: users[i % users.length]?.token,
      body: { card: { number, expMonth: 12, expYear: 2099, cvc: '4321' } },
    });
    methods.push(idOf(res)?.id ?? '');
  }
  const valid = randomCardNumber('4');
  const badLuhn = card('card number failing Luhn', valid.slice(0, -1) + ((Number(valid.at(-1)) + 1) % 10));
  const bad = [
    { number: badLuhn, expMonth: 12, expYear: 2099, cvc: '123' },
    { number: card('expired card number', randomCardNumber('4')), expMonth: 1, expYear: 2001, cvc: '123' },
    {
      number: Number(card('card number as a JSON number', randomCardNumber('4'))),
      expMonth: 12,
      expYear: 2099,
      cvc: '1',
    },
    {
      number: card('card number with a bad CVC', randomCardNumber('4')),
      expMonth: 12,
      expYear: 2099,
      cvc: 'abcde',
    },
  ];
  for (const c of bad)
    expectStatus(
      await http.call('POST', '/api/payment-methods', { token: first.token, body: { card: c } }),
      400,
    );
  const inJson = card('card number in a malformed JSON body', randomCardNumber('4'));
  expectStatus(
    await http.call('POST', '/api/payment-methods', {
      token: first.token,
      rawBody: `{"card":{"number":"${inJson}"`,
    }),
    400,
  );

  // Orders paid with the saved cards (charges, events, saga, read model, notifications).
  for (const [i, pm] of methods.entries()) {
    const user = users[i % users.length] as FlowUser;
    await http.call('POST', '/api/orders', {
      token: user.token,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: pm,
      },
    });
  }
  await http.call('PATCH', '/api/users/me', { token: first.token, body: { address: DEMO_ADDRESS } });

  // Credentials an attacker presents: refused, and never repeated back or logged.
  const forged = await new SignJWT({ roles: ['admin'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('attacker')
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(`forged-${rnd(16)}`));
  const expired = await new SignJWT({ roles: ['customer'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(first.id)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(new TextEncoder().encode(shop.jwtSecret));
  const garbage = `garbage-${rnd(16)}`;
  secrets.push(
    { name: 'forged bearer token', value: forged },
    { name: 'expired genuine token', value: expired },
    { name: 'garbage bearer token', value: garbage },
  );
  for (const token of [forged, expired, garbage]) {
    expectStatus(await http.call('GET', '/api/orders', { token }), 401);
    expectStatus(await http.call('GET', '/api/products?limit=1', { token }), 401);
  }
  await http.call('GET', '/api/users/me', {
    headers: { 'x-trellis-identity': forged, 'x-user-id': first.id },
  });
  await http.call('GET', '/api/users', { token: first.token });
  await http.call('GET', '/api/users?limit=50', { token: admin });
  await http.call('GET', '/api/admin/charges?limit=50', { token: admin });
  return { users, admin, secrets, methods };
}
