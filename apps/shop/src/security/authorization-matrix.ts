/**
 * The shop's authorization matrix, written down once as data: for every route the gateway
 * exposes (the route catalog's `publicRoutes()`), what each kind of caller gets; for every
 * service-only route, who may call it at the service port; and for every assistant tool, who
 * is offered it, whose data it reaches and whether a human must approve the call.
 *
 * `authorization-matrix.e2e.test.ts` checks every cell against a running shop through the
 * gateway; `authorization-matrix.test.ts` checks that the rows cover the catalog exactly and
 * that SECURITY.md shows {@link renderAuthorizationMatrix}'s tables, so the document, the data
 * and the shop cannot drift apart.
 */

/** The callers of the matrix. */
export const MATRIX_ROLES = ['anonymous', 'customer', 'otherCustomer', 'admin', 'service'] as const;
/** One caller. */
export type MatrixRole = (typeof MATRIX_ROLES)[number];

/** Column headings, and what each caller is. */
export const ROLE_LABELS: Record<MatrixRole, { heading: string; who: string }> = {
  anonymous: { heading: 'anonymous', who: 'no credentials' },
  customer: { heading: 'customer (owner)', who: 'the customer who owns the order, run or profile addressed' },
  otherCustomer: {
    heading: 'other customer',
    who: "another signed-in customer, addressing the owner's resource",
  },
  admin: { heading: 'admin', who: 'a user with the admin role' },
  service: {
    heading: 'service token',
    who: "a genuine internal service token (the installation's secret) presented to the gateway",
  },
};

/**
 * What a caller gets:
 * - `allow`: the request is served (the route's ordinary answer);
 * - `own`: served, but scoped to the caller: nothing of the owner's appears;
 * - `401`: refused, not authenticated (`UNAUTHORIZED`);
 * - `403`: refused, authenticated but not permitted (`FORBIDDEN`);
 * - `404`: someone else's resource is indistinguishable from a missing one (`NOT_FOUND`).
 */
export type Outcome = 'allow' | 'own' | '401' | '403' | '404';

/** One route of the public API. */
export interface MatrixRow {
  /** `METHOD /api/path`, as the route catalog names it. */
  route: string;
  outcomes: Record<MatrixRole, Outcome>;
  note?: string;
}

type Cells = Record<MatrixRole, Outcome>;
const cells = (
  anonymous: Outcome,
  customer: Outcome,
  otherCustomer: Outcome,
  admin: Outcome,
  service: Outcome = '401',
): Cells => ({ anonymous, customer, otherCustomer, admin, service });

/** Anyone, even without an account (a bad credential is still refused). */
const open = cells('allow', 'allow', 'allow', 'allow');
/** Any signed-in user, acting on their own account. */
const self = cells('401', 'allow', 'own', 'allow');
/** The owner and admins; to anyone else the resource does not exist. */
const ownerOrAdmin = cells('401', 'allow', '404', 'allow');
/** Admins only. */
const admins = cells('401', '403', '403', 'allow');

const row = (route: string, outcomes: Cells, note?: string): MatrixRow => ({
  route,
  outcomes,
  ...(note ? { note } : {}),
});

/** Every public route and what each caller gets (checked through the gateway). */
export const AUTHORIZATION_MATRIX: readonly MatrixRow[] = [
  row('POST /api/auth/signup', open, 'per-IP rate limit (burst 20, 5/s)'),
  row('POST /api/auth/login', open, 'per-IP rate limit; wrong email and wrong password answer alike'),
  row('GET /api/users/me', self),
  row('PATCH /api/users/me', self),
  row('GET /api/users/:id', admins),
  row('GET /api/users', admins),
  row('GET /api/products', open),
  row('GET /api/products/:id', open),
  row('GET /api/categories', open),
  row(
    'POST /api/products/lookup',
    admins,
    'used by orders for server-side pricing; admins only at the gateway',
  ),
  row('POST /api/products', admins),
  row('PATCH /api/products/:id', admins),
  row('GET /api/stock', open),
  row('GET /api/stock/:productId', open),
  row('POST /api/stock/:productId/restock', admins),
  row('POST /api/orders', self, "orders are always the caller's own (the customer id comes from the token)"),
  row('GET /api/orders', cells('401', 'allow', '403', 'allow'), "listing another customer's orders is 403"),
  row('GET /api/orders/:id', ownerOrAdmin),
  row(
    'POST /api/orders/:id/cancel',
    ownerOrAdmin,
    'a shipped order answers 409 ORDER_STATE to those allowed',
  ),
  row('GET /api/orders/:id/events', admins),
  row('POST /api/payment-methods', self, 'only brand and last four digits are kept'),
  row('GET /api/payment-methods', self),
  row('GET /api/notifications', self),
  row('GET /api/admin/charges', admins),
  row('GET /api/admin/processor', admins),
  row('PUT /api/admin/processor', admins),
  row('GET /api/admin/shipments', admins),
  row('GET /api/assistant', self, 'the tools this user may use'),
  row(
    'POST /api/assistant/chat',
    cells('401', 'allow', '404', '404'),
    "a new conversation is anyone's; continuing another user's run (`runId`) is 404, even for admins",
  ),
  row(
    'GET /api/assistant/runs',
    cells('401', 'allow', 'own', 'allow'),
    "admins list every user's runs (support, audit)",
  ),
  row('GET /api/assistant/runs/:id', ownerOrAdmin, 'admins read any transcript (support, audit)'),
  row(
    'POST /api/assistant/runs/:id/approvals',
    cells('401', 'allow', '404', '404'),
    'only the run’s own user decides',
  ),
  row('POST /api/assistant/mcp', self, 'stateless MCP; approval-gated tools answer TOOL_APPROVAL_REQUIRED'),
  ...[
    'GET /api/ops/overview',
    'GET /api/ops/charts',
    'GET /api/ops/alerts',
    'GET /api/ops/breakers',
    'GET /api/ops/sagas',
    'GET /api/ops/sagas/:id',
    'POST /api/ops/sagas/:id/resume',
    'GET /api/ops/dead-letters',
    'GET /api/ops/dead-letters/:id',
    'POST /api/ops/dead-letters/replay',
    'POST /api/ops/dead-letters/purge',
    'GET /api/ops/events',
    'GET /api/ops/streams/:id',
    'GET /api/ops/read-models/:name/:id',
    'GET /api/ops/traces',
    'GET /api/ops/traces/:traceId',
    'GET /api/ops/faults',
    'PUT /api/ops/faults/:group',
    'DELETE /api/ops/faults/:group',
  ].map((route) => row(route, admins)),
];

/** What callers get on a service-only route (saga steps), at the gateway and at the service port. */
export interface InternalRow {
  /** `inventory.reserve`, as the route catalog names it. */
  name: string;
  /** `POST /reservations` on the service's own port. */
  route: string;
}

/** Outcomes of every service-only route (the same for each; see {@link INTERNAL_ROUTES}). */
export const INTERNAL_OUTCOMES = {
  /** Through the gateway: no public path leads there, for anyone. */
  gateway: '404',
  /** At the service port with a genuine service token (a peer service): served. */
  service: 'allow',
  /** At the service port with a genuine user token (even an admin's): refused. */
  admin: '403',
  customer: '403',
  /** With a genuine anonymous token, or none. */
  anonymous: '401',
} as const satisfies Record<string, Outcome>;

/** The service-only routes: only a peer service's token may call them. */
export const INTERNAL_ROUTES: readonly InternalRow[] = [
  { name: 'inventory.reserve', route: 'POST /reservations' },
  { name: 'inventory.release', route: 'POST /reservations/release' },
  { name: 'inventory.commit', route: 'POST /reservations/commit' },
  { name: 'payments.charge', route: 'POST /charges' },
  { name: 'payments.refund', route: 'POST /refunds' },
  { name: 'shipping.createShipment', route: 'POST /shipments' },
  { name: 'shipping.cancelShipment', route: 'POST /shipments/cancel' },
];

/** One assistant tool: who is offered it, whose data it reaches, and whether a human approves. */
export interface ToolRow {
  tool: string;
  customer: string;
  admin: string;
  /** What the service answers when a customer's call names another customer's data. */
  othersData: 'FORBIDDEN' | 'NOT_FOUND' | '–';
  approval: boolean;
}

/** The assistant's tools (anonymous callers never reach the assistant: 401 at the gateway). */
export const TOOL_MATRIX: readonly ToolRow[] = [
  {
    tool: 'search_orders',
    customer: 'own orders',
    admin: 'any customer',
    othersData: 'FORBIDDEN',
    approval: false,
  },
  { tool: 'get_order', customer: 'own orders', admin: 'any order', othersData: 'NOT_FOUND', approval: false },
  { tool: 'search_products', customer: 'catalog', admin: 'catalog', othersData: '–', approval: false },
  { tool: 'stock_lookup', customer: 'stock levels', admin: 'stock levels', othersData: '–', approval: false },
  {
    tool: 'cancel_order',
    customer: 'own orders',
    admin: 'any order',
    othersData: 'NOT_FOUND',
    approval: true,
  },
];

const SHOW: Record<Outcome, string> = {
  allow: 'allowed',
  own: 'own only',
  '401': '401',
  '403': '403',
  '404': '404',
};

/**
 * The matrix as Markdown (the tables SECURITY.md shows between its
 * `authorization-matrix` markers).
 *
 * @example
 * ```ts
 * const md = renderAuthorizationMatrix(); // "| route | anonymous | customer (owner) | …"
 * ```
 */
export function renderAuthorizationMatrix(): string {
  const lines: string[] = [];
  lines.push(`| route | ${MATRIX_ROLES.map((r) => ROLE_LABELS[r].heading).join(' | ')} | note |`);
  lines.push(`|---|${MATRIX_ROLES.map(() => '---').join('|')}|---|`);
  for (const r of AUTHORIZATION_MATRIX) {
    const outcomes = MATRIX_ROLES.map((role) => SHOW[r.outcomes[role]]);
    lines.push(`| \`${r.route}\` | ${outcomes.join(' | ')} | ${r.note ?? ''} |`);
  }
  lines.push('');
  lines.push('Service-only routes (the saga’s steps), on the service’s own port:');
  lines.push('');
  lines.push(
    '| route | through the gateway | service token | admin token | customer token | anonymous or none |',
  );
  lines.push('|---|---|---|---|---|---|');
  const o = INTERNAL_OUTCOMES;
  for (const r of INTERNAL_ROUTES) {
    const shown = [o.gateway, o.service, o.admin, o.customer, o.anonymous].map((x) => SHOW[x]);
    lines.push(`| \`${r.name}\` \`${r.route}\` | ${shown.join(' | ')} |`);
  }
  lines.push('');
  lines.push('The assistant’s tools (each call runs with the user’s own identity):');
  lines.push('');
  lines.push("| tool | customer | admin | a customer naming another's data | needs approval |");
  lines.push('|---|---|---|---|---|');
  for (const t of TOOL_MATRIX) {
    lines.push(
      `| \`${t.tool}\` | ${t.customer} | ${t.admin} | ${t.othersData} | ${t.approval ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

/** The markers around the rendered matrix in SECURITY.md. */
export const MATRIX_MARKERS = {
  start:
    '<!-- authorization-matrix:start (generated from apps/shop/src/security/authorization-matrix.ts) -->',
  end: '<!-- authorization-matrix:end -->',
} as const;
