/**
 * Sends alert notifications to a webhook in Alertmanager's webhook format (version 4), so
 * anything that already receives Alertmanager (a chat bridge, an incident tool) accepts them.
 * Retries with back-off on network errors, timeouts, 5xx, 408 and 429; any other 4xx is final
 * (the receiver refused the payload itself).
 */
import { type Clock, sleep, systemClock } from '@trellis/core';
import type { AlertNotification, AlertNotifier } from './alert-evaluator.js';
import { WebhookDeliveryError } from './errors.js';

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  url: string;
  /** Extra headers (an `authorization` token). */
  headers?: Record<string, string>;
  /** Attempts per notification batch. Default 3. */
  attempts?: number;
  /** First back-off delay (doubles each time). Default 500 ms. */
  backoffMs?: number;
  /** Per-attempt timeout. Default 5 s. */
  timeoutMs?: number;
  /** Link back to the console in the payload (`externalURL`). */
  externalUrl?: string;
  receiver?: string;
  clock?: Clock;
}

/**
 * The notifier.
 *
 * @example
 * ```ts
 * new AlertEvaluator({ rules: trellisAlertRules(), notifiers: [new WebhookNotifier({ url: 'https://hooks.example/alerts' })] });
 * ```
 */
export class WebhookNotifier implements AlertNotifier {
  private readonly clock: Clock;
  constructor(private readonly options: WebhookNotifierOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** The JSON body for a batch (Alertmanager webhook v4). */
  payload(notifications: readonly AlertNotification[]) {
    const firing = notifications.some((n) => n.status === 'firing');
    return {
      version: '4',
      receiver: this.options.receiver ?? 'trellis-console',
      status: firing ? 'firing' : 'resolved',
      // One group (no group_by): Alertmanager's key for it.
      groupKey: '{}:{}',
      externalURL: this.options.externalUrl ?? '',
      commonLabels: common(notifications.map((n) => n.alert.labels)),
      commonAnnotations: common(notifications.map((n) => n.alert.annotations)),
      groupLabels: {},
      truncatedAlerts: 0,
      alerts: notifications.map((n) => ({
        status: n.status,
        labels: n.alert.labels,
        annotations: n.alert.annotations,
        startsAt: new Date(n.alert.firingAt ?? n.alert.activeAt).toISOString(),
        endsAt: n.endsAt ? new Date(n.endsAt).toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: this.options.externalUrl ?? '',
        fingerprint: n.alert.id,
      })),
    };
  }

  /** Throws `WebhookDeliveryError` when every attempt failed or the receiver answered 4xx. */
  async notify(notifications: readonly AlertNotification[]): Promise<void> {
    if (notifications.length === 0) return;
    const body = JSON.stringify(this.payload(notifications));
    const attempts = Math.max(1, this.options.attempts ?? 3);
    let delay = this.options.backoffMs ?? 500;
    let last: WebhookDeliveryError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let res: Response | undefined;
      try {
        res = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.options.headers },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
      } catch (error) {
        last = new WebhookDeliveryError(this.options.url, `unreachable (${(error as Error).message})`, {
          cause: error,
        });
      }
      if (res) {
        await res.body?.cancel();
        if (res.ok) return;
        last = new WebhookDeliveryError(this.options.url, `answered ${res.status}`, { status: res.status });
        // The receiver refused the payload itself: sending it again cannot help.
        if (res.status < 500 && res.status !== 408 && res.status !== 429) throw last;
      }
      if (attempt < attempts) {
        await sleep(delay, { clock: this.clock });
        delay *= 2;
      }
    }
    throw last as WebhookDeliveryError;
  }
}

/** The label pairs every one of `sets` has (Alertmanager's `commonLabels`). */
function common(sets: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = sets;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((s) => s[k] === v)));
}
