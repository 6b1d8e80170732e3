/**
 * Evaluates alert rules over a {@link MetricHistory} the way Prometheus does: a condition
 * that starts holding makes the alert `pending`; once it has held for the rule's `for`, the
 * alert is `firing`; when it stops holding the alert resolves. Firing and resolved alerts are
 * handed to notifiers (a webhook; the console's banner reads {@link AlertEvaluator.active})
 * once per change, like Alertmanager: an alert that stays firing is not sent again until its
 * repeat interval has passed.
 */
import { type Clock, systemClock } from '@trellis/core';
import { NotificationQueue } from './alert-delivery.js';
import type { AlertRule } from './alert-rules.js';
import type { MetricHistory } from './metric-history.js';

/** An active alert. */
export interface Alert {
  /** `alertname` plus the labels, stable while the alert lasts. */
  id: string;
  name: string;
  severity: AlertRule['severity'];
  state: 'pending' | 'firing';
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
  value: number;
  /** Epoch ms the condition started holding. */
  activeAt: number;
  /** Epoch ms it started firing. */
  firingAt: number | undefined;
}

/** A change worth telling someone about. */
export interface AlertNotification {
  status: 'firing' | 'resolved';
  alert: Alert;
  /** Epoch ms of the resolution (resolved only). */
  endsAt?: number;
}

/** Something that receives notifications (a webhook, a log). */
export interface AlertNotifier {
  notify(notifications: readonly AlertNotification[]): Promise<void>;
}

/** Fills `{{ $labels.name }}` placeholders. */
export function renderTemplate(template: string, labels: Record<string, string>): string {
  return template.replace(
    /\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g,
    (_m, k: string) => labels[k] ?? '',
  );
}

/**
 * The evaluator.
 *
 * @example
 * ```ts
 * const evaluator = new AlertEvaluator({ rules: trellisAlertRules(), notifiers: [new WebhookNotifier({ url })] });
 * await evaluator.evaluate(history); // after each scrape
 * evaluator.active(); // pending and firing alerts
 * ```
 */
export class AlertEvaluator {
  readonly rules: readonly AlertRule[];
  private readonly alerts = new Map<string, Alert>();
  private readonly queues: NotificationQueue[];
  private readonly clock: Clock;
  private readonly repeatIntervalMs: number;
  /** When each firing alert was last handed to the notifiers. */
  private readonly notifiedAt = new Map<string, number>();
  /** Recently resolved alerts, newest last (the console's history). */
  readonly resolved: Array<Alert & { resolvedAt: number }> = [];

  constructor(options: {
    rules: readonly AlertRule[];
    notifiers?: AlertNotifier[];
    clock?: Clock;
    /** Notification failures (after the notifier's own retries); they are retried at the next evaluation. */
    onNotifyError?: (error: unknown) => void;
    /** A firing alert is sent again after this long (Alertmanager's `repeat_interval`). Default 4 h. */
    repeatIntervalMs?: number;
  }) {
    this.rules = options.rules;
    this.clock = options.clock ?? systemClock;
    this.repeatIntervalMs = options.repeatIntervalMs ?? 4 * 3_600_000;
    const onError = options.onNotifyError ?? (() => {});
    this.queues = (options.notifiers ?? []).map((n) => new NotificationQueue(n, onError));
  }

  /**
   * Evaluates every rule at `now` and hands alerts that started firing or resolved (and
   * firing ones due for a reminder) to the notifiers. Delivery runs in the background, one
   * batch at a time per notifier; what failed is retried at the next evaluation. Evaluation
   * never waits for a notifier and never throws because of one.
   */
  async evaluate(history: MetricHistory, now = this.clock.now()): Promise<Alert[]> {
    const seen = new Set<string>();
    const changes: AlertNotification[] = [];
    for (const rule of this.rules) {
      for (const v of rule.evaluate(history, now)) {
        const labels = { alertname: rule.name, ...v.labels, severity: rule.severity };
        const id = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
        seen.add(id);
        let alert = this.alerts.get(id);
        if (!alert) {
          alert = {
            id,
            name: rule.name,
            severity: rule.severity,
            state: 'pending',
            labels,
            annotations: {
              summary: renderTemplate(rule.summary, labels),
              description: renderTemplate(rule.description, labels),
            },
            value: v.value,
            activeAt: now,
            firingAt: undefined,
          };
          this.alerts.set(id, alert);
        }
        alert.value = v.value;
        if (alert.state === 'pending' && now - alert.activeAt >= rule.forMs) {
          alert.state = 'firing';
          alert.firingAt = now;
        }
        const last = this.notifiedAt.get(id);
        if (alert.state === 'firing' && (last === undefined || now - last >= this.repeatIntervalMs)) {
          changes.push({ status: 'firing', alert: { ...alert } });
          this.notifiedAt.set(id, now);
        }
      }
    }
    for (const [id, alert] of this.alerts) {
      if (seen.has(id)) continue;
      this.alerts.delete(id);
      this.notifiedAt.delete(id);
      if (alert.state === 'firing') {
        changes.push({ status: 'resolved', alert: { ...alert }, endsAt: now });
        this.resolved.push({ ...alert, resolvedAt: now });
        if (this.resolved.length > 100) this.resolved.shift();
      }
    }
    for (const q of this.queues) {
      if (changes.length > 0) q.push(changes);
      else q.kick();
    }
    return this.active();
  }

  /** Resolves when no notification delivery is running (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.settled()));
  }

  /** Notifications not delivered yet (a receiver that failed), summed over notifiers. */
  get undelivered(): number {
    return this.queues.reduce((n, q) => n + q.size, 0);
  }

  /** Pending and firing alerts, firing first, then by name. */
  active(): Alert[] {
    return [...this.alerts.values()]
      .map((a) => ({ ...a }))
      .sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === 'firing' ? -1 : 1));
  }
}
