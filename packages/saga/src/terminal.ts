/**
 * What happens once an instance's terminal state is durable: metrics hooks, and for `failed`
 * a dead letter next to the bus's, so operators find it with the rest of what needs attention.
 */
import { notify } from './observer.js';
import type { ResolvedRunnerOptions } from './runner-options.js';
import type { SagaInstance } from './store.js';

/** Topic under which failed sagas are dead-lettered (`saga.<name>.failed`). */
export function failedSagaTopic(name: string): string {
  return `saga.${name.replace(/[^A-Za-z0-9_-]/g, '_')}.failed`;
}

/** Notifies observers and records a dead letter for a failed saga. Never throws. */
export async function onTerminal(
  o: ResolvedRunnerOptions,
  instance: SagaInstance,
  cause: unknown,
): Promise<void> {
  const base = { saga: instance.name, sagaId: instance.id, trace: instance.trace };
  const durationMs = instance.updatedAt - instance.createdAt;
  const step = instance.error?.step ?? '';
  const error = cause ?? instance.error;
  if (instance.status === 'completed') notify(o.observer, 'sagaCompleted', { ...base, durationMs });
  else if (instance.status === 'compensated')
    notify(o.observer, 'sagaCompensated', { ...base, durationMs, step, error });
  else if (instance.status === 'failed') {
    notify(o.observer, 'sagaFailed', { ...base, step, error });
    if (!o.deadLetters) return;
    const now = o.clock.now();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(instance.trace)) if (typeof v === 'string') headers[k] = v;
    await o.deadLetters
      .record({
        // One dead letter per failure: a saga resumed and failed again is recorded again.
        messageId: `${instance.id}@${instance.version}`,
        group: `saga-${instance.name.replace(/[^A-Za-z0-9_-]/g, '_')}`,
        pattern: failedSagaTopic(instance.name),
        topic: failedSagaTopic(instance.name),
        key: instance.id,
        headers,
        payload: { sagaId: instance.id, saga: instance.name, step, resumeStatus: instance.resumeStatus },
        reason: 'failed',
        error: {
          name: instance.error?.name ?? 'SagaFailedError',
          message: instance.error?.message ?? 'saga failed',
          ...(instance.error?.code ? { code: instance.error.code } : {}),
        },
        attempts: instance.recoveries + 1,
        publishedAt: instance.createdAt,
        firstAttemptAt: instance.createdAt,
        lastAttemptAt: now,
        transport: 'saga',
      })
      .catch((error: unknown) =>
        notify(o.observer, 'storeError', { operation: 'deadLetter', sagaId: instance.id, error }),
      );
  }
}
