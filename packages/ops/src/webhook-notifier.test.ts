/**
 * The webhook notifier against a real HTTP receiver on loopback: the Alertmanager webhook v4
 * body, retries with doubling back-off (on a ManualClock), final 4xx, unreachable receivers,
 * and — through the evaluator — one notification per change: no repeats while an alert stays
 * firing, a resolved notification when it ends, and nothing lost while the receiver is down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@trellis/core';
import { ServiceMetrics } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AlertEvaluator, type AlertNotification } from './alert-evaluator.js';
import { trellisAlertRules } from './alert-rules.js';
import { isWebhookDeliveryError } from './errors.js';
import { parseExposition } from './exposition.js';
import { MetricHistory } from './metric-history.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** Alertmanager's webhook payload, version 4 (prometheus/alertmanager notify/webhook). */
const Rfc3339 = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
const AlertmanagerWebhook = z.strictObject({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  commonLabels: z.record(z.string(), z.string()),
  commonAnnotations: z.record(z.string(), z.string()),
  externalURL: z.string(),
  alerts: z.array(
    z.strictObject({
      status: z.enum(['firing', 'resolved']),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()),
      startsAt: Rfc3339,
      endsAt: Rfc3339,
      generatorURL: z.string(),
      fingerprint: z.string().min(1),
    }),
  ),
});
type Payload = z.output<typeof AlertmanagerWebhook>;

interface Received {
  at: number;
  headers: IncomingMessage['headers'];
  body: Payload;
}

/** A webhook receiver: answers each request with the next scripted status (200 when none left). */
async function receiver(clock?: ManualClock) {
  const received: Received[] = [];
  const script: Array<number | 'hang'> = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({
        at: clock?.now() ?? Date.now(),
        headers: req.headers,
        body: AlertmanagerWebhook.parse(JSON.parse(raw)),
      });
      for (const w of waiters.splice(0)) w();
      const next = script.shift() ?? 200;
      if (next === 'hang') return; // never answers
      res.writeHead(next, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    script,
    /** Resolves once `n` requests have arrived. */
    async count(n: number) {
      while (received.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Advances the clock by `ms` once the notifier is waiting on it (a back-off timer is set). */
async function advanceWhenWaiting(clock: ManualClock, ms: number): Promise<void> {
  while (clock.pendingTimers() === 0) await new Promise((r) => setImmediate(r));
  await clock.advance(ms);
}

function notification(status: 'firing' | 'resolved', name: string, service: string): AlertNotification {
  const labels = { alertname: name, service, severity: 'critical' };
  return {
    status,
    alert: {
      id: JSON.stringify(labels),
      name,
      severity: 'critical',
      state: 'firing',
      labels,
      annotations: { summary: `${name} in ${service}`, description: 'Look at it.' },
      value: 1,
      activeAt: 60_000,
      firingAt: 120_000,
    },
    ...(status === 'resolved' ? { endsAt: 180_000 } : {}),
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});
async function open(clock?: ManualClock) {
  const r = await receiver(clock);
  closers.push(r.close);
  return r;
}

describe('WebhookNotifier', () => {
  it('posts an Alertmanager webhook v4 body with the configured headers', async () => {
    const r = await open();
    const notifier = new WebhookNotifier({
      url: r.url,
      headers: { authorization: 'Bearer s3cret' },
      externalUrl: 'http://shop.example/console/#/alerts',
      receiver: 'on-call',
    });
    await notifier.notify([
      notification('firing', 'TrellisSagaFailed', 'orders'),
      notification('resolved', 'TrellisSagaFailed', 'payments'),
    ]);
    expect(r.received).toHaveLength(1);
    const [{ headers, body }] = r.received as [Received];
    expect(headers['content-type']).toBe('application/json');
    expect(headers.authorization).toBe('Bearer s3cret');
    expect(body).toMatchObject({
      receiver: 'on-call',
      status: 'firing',
      externalURL: 'http://shop.example/console/#/alerts',
      commonLabels: { alertname: 'TrellisSagaFailed', severity: 'critical' },
      commonAnnotations: { description: 'Look at it.' },
    });
    expect(body.alerts).toEqual([
      {
        status: 'firing',
        labels: { alertname: 'TrellisSagaFailed', service: 'orders', severity: 'critical' },
        annotations: { summary: 'TrellisSagaFailed in orders', description: 'Look at it.' },
        startsAt: '1970-01-01T00:02:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://shop.example/console/#/alerts',
        fingerprint: JSON.stringify({
          alertname: 'TrellisSagaFailed',
          service: 'orders',
          severity: 'critical',
        }),
      },
      expect.objectContaining({ status: 'resolved', endsAt: '1970-01-01T00:03:00.000Z' }),
    ]);
  });

  it('sends nothing for an empty batch', async () => {
    const r = await open();
    await new WebhookNotifier({ url: r.url }).notify([]);
    expect(r.received).toEqual([]);
  });

  it('retries 5xx, 408 and 429 with doubling back-off, then succeeds', async () => {
    const clock = new ManualClock(1_000);
    const r = await open(clock);
    r.script.push(503, 429, 408);
    const notifier = new WebhookNotifier({ url: r.url, attempts: 4, backoffMs: 500, clock });
    const sent = notifier.notify([notification('firing', 'TrellisInstanceDown', 'orders')]);
    for (const wait of [500, 1000, 2000]) await advanceWhenWaiting(clock, wait);
    await sent;
    expect(r.received.map((x) => x.at)).toEqual([1_000, 1_500, 2_500, 4_500]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('gives up after its attempts with the last status', async () => {
    const clock = new ManualClock();
    const r = await open(clock);
    r.script.push(500, 502, 503);
    const notifier = new WebhookNotifier({ url: r.url, attempts: 3, backoffMs: 100, clock });
    const sent = notifier.notify([notification('firing', 'TrellisInstanceDown', 'orders')]).catch((e) => e);
    for (const wait of [100, 200]) await advanceWhenWaiting(clock, wait);
    const error = await sent;
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error).toMatchObject({ status: 502, details: { url: r.url, status: 503 } });
    expect(r.received).toHaveLength(3);
  });

  it('does not retry a payload the receiver refused', async () => {
    const r = await open();
    r.script.push(400);
    const error = await new WebhookNotifier({ url: r.url, attempts: 5 })
      .notify([notification('firing', 'TrellisInstanceDown', 'orders')])
      .catch((e) => e);
    expect(isWebhookDeliveryError(error) && error.message).toContain('answered 400');
    expect(r.received).toHaveLength(1);
  });

  it('reports an unreachable receiver and a receiver that never answers', async () => {
    const gone = await receiver();
    await gone.close();
    const unreachable = await new WebhookNotifier({ url: gone.url, attempts: 1 })
      .notify([notification('firing', 'TrellisInstanceDown', 'orders')])
      .catch((e) => e);
    expect(isWebhookDeliveryError(unreachable) && unreachable.message).toMatch(/unreachable/);
    expect(unreachable.cause).toBeInstanceOf(Error);

    const r = await open();
    r.script.push('hang');
    const hung = await new WebhookNotifier({ url: r.url, attempts: 1, timeoutMs: 50 })
      .notify([notification('firing', 'TrellisInstanceDown', 'orders')])
      .catch((e) => e);
    expect(isWebhookDeliveryError(hung) && hung.message).toMatch(/unreachable/);
  });
});

describe('AlertEvaluator with a webhook', () => {
  /** The orders service's real metrics, scraped into a history once a minute. */
  function system() {
    const clock = new ManualClock(0);
    const metrics = new ServiceMetrics({ serviceName: 'orders', defaultMetrics: false });
    let failed = 0;
    metrics.sagaStates(() => [{ saga: 'place-order', state: 'failed', count: failed }]);
    const history = new MetricHistory();
    const scrape = async () =>
      history.add(clock.now(), 'orders', parseExposition(await metrics.registry.metrics()));
    return {
      clock,
      history,
      scrape,
      setFailed: (n: number) => {
        failed = n;
      },
    };
  }

  it('notifies once when an alert fires, not again while it stays firing, and once when it resolves', async () => {
    const s = system();
    const r = await open();
    const evaluator = new AlertEvaluator({
      rules: trellisAlertRules(),
      notifiers: [new WebhookNotifier({ url: r.url })],
      clock: s.clock,
    });
    const minute = async () => {
      await s.scrape();
      await evaluator.evaluate(s.history);
      await evaluator.settled();
      await s.clock.advance(60_000);
    };
    await minute();
    s.setFailed(1);
    for (let i = 0; i < 5; i++) await minute();
    expect(r.received.map((x) => x.body.alerts.map((a) => `${a.status} ${a.labels.alertname}`))).toEqual([
      ['firing TrellisSagaFailed'],
    ]);
    expect(r.received[0]?.body.alerts[0]).toMatchObject({
      labels: {
        alertname: 'TrellisSagaFailed',
        saga: 'place-order',
        service: 'orders',
        severity: 'critical',
      },
      annotations: { summary: 'Failed place-order sagas need attention' },
      startsAt: '1970-01-01T00:01:00.000Z',
    });

    s.setFailed(0);
    for (let i = 0; i < 3; i++) await minute();
    expect(r.received).toHaveLength(2);
    expect(r.received[1]?.body).toMatchObject({ status: 'resolved' });
    expect(r.received[1]?.body.alerts[0]).toMatchObject({
      status: 'resolved',
      startsAt: '1970-01-01T00:01:00.000Z',
      endsAt: '1970-01-01T00:06:00.000Z',
    });
    expect(evaluator.resolved.map((a) => a.name)).toEqual(['TrellisSagaFailed']);
  });

  it('keeps what the receiver refused while down and delivers it when it is back, in order', async () => {
    const s = system();
    const r = await open();
    const errors: unknown[] = [];
    const evaluator = new AlertEvaluator({
      rules: trellisAlertRules(),
      notifiers: [new WebhookNotifier({ url: r.url, attempts: 1 })],
      clock: s.clock,
      onNotifyError: (e) => errors.push(e),
    });
    r.script.push(503, 503);
    s.setFailed(1);
    await s.scrape();
    await evaluator.evaluate(s.history); // fires: delivery fails
    await evaluator.settled();
    expect(evaluator.undelivered).toBe(1);
    await s.clock.advance(60_000);
    s.setFailed(0);
    await s.scrape();
    await evaluator.evaluate(s.history); // resolves: the firing one is replaced, delivery fails again
    await evaluator.settled();
    expect(errors.filter(isWebhookDeliveryError)).toHaveLength(2);
    await s.clock.advance(60_000);
    await s.scrape();
    await evaluator.evaluate(s.history); // nothing new: the queued notification goes out
    await evaluator.settled();
    expect(evaluator.undelivered).toBe(0);
    expect(r.received.map((x) => x.body.alerts.map((a) => a.status))).toEqual([
      ['firing'],
      ['resolved'],
      ['resolved'],
    ]);
  });

  it('reminds about an alert still firing after the repeat interval', async () => {
    const s = system();
    const r = await open();
    const evaluator = new AlertEvaluator({
      rules: trellisAlertRules(),
      notifiers: [new WebhookNotifier({ url: r.url })],
      clock: s.clock,
      repeatIntervalMs: 10 * 60_000,
    });
    s.setFailed(1);
    for (let minute = 0; minute <= 25; minute++) {
      await s.scrape();
      await evaluator.evaluate(s.history);
      await evaluator.settled();
      await s.clock.advance(60_000);
    }
    expect(r.received.map((x) => x.body.alerts[0]?.status)).toEqual(['firing', 'firing', 'firing']);
    // Same alert every time: same fingerprint and start.
    expect(new Set(r.received.map((x) => x.body.alerts[0]?.fingerprint)).size).toBe(1);
    expect(new Set(r.received.map((x) => x.body.alerts[0]?.startsAt)).size).toBe(1);
  });
});
