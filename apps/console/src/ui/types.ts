/** Shapes of the ops API answers the console reads. */

export interface Breaker {
  name: string;
  state: string;
  since?: number;
  successes: number;
  failures: number;
  rejections: number;
  transitions: Array<{ from: string; to: string; reason: string; at: number }>;
}

export interface Instance {
  id: string;
  service: string;
  up: boolean;
  error: string | null;
  lastSeenAt: number | null;
  info: {
    uptimeMs: number;
    startedAt: string;
    pid: number;
    version: string;
    health: { status: string; checks: Record<string, { ok: boolean; error?: string }> };
  } | null;
  breakers: Breaker[];
  red: { requestsPerSecond: number; errorRatio: number; p99Ms: number | null } | null;
}

export interface Alert {
  id: string;
  name: string;
  severity: string;
  state: 'pending' | 'firing';
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
  value: number;
  activeAt: number;
  firingAt?: number;
  resolvedAt?: number;
}

export interface Overview {
  instances: Instance[];
  alerts: Alert[];
  at: number;
}

export interface SagaRow {
  id: string;
  name: string;
  status: string;
  step: number;
  error: { message: string; code?: string; step?: string } | null;
  createdAt: number;
  updatedAt: number;
  recoveries: number;
  traceId: string | null;
  service: string;
}

export interface SagaTimeline {
  instance: SagaRow & { context: Record<string, unknown>; input: Record<string, unknown> };
  events: Array<{
    seq: number;
    at: number;
    kind: string;
    step: string | null;
    attempt: number | null;
    durationMs: number | null;
    error: { message: string; code?: string } | null;
    note: string | null;
  }>;
  steps: Array<{
    step: string;
    status: string;
    attempts: number;
    compensationAttempts: number;
    durationMs: number | null;
    errors: Array<{ message: string; code?: string; phase: string; at: number }>;
  }>;
  traceId: string | null;
  service: string;
}

export interface DeadLetter {
  id: string;
  messageId: string;
  group: string;
  topic: string;
  key?: string;
  headers: Record<string, string>;
  payload: unknown;
  reason: string;
  error: { name: string; message: string; code?: string; stack?: string };
  attempts: number;
  deadLetteredAt: number;
  transport: string;
  traceId: string | null;
  service: string;
}

export interface StoredEvent {
  id: string;
  aggregateId: string;
  aggregateType: string;
  eventType: string;
  version: number;
  position: number;
  timestamp: string;
  payload: unknown;
  metadata: Record<string, unknown>;
  traceId: string | null;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  service: string;
  startMs: number;
  durationMs: number;
  status: string;
  statusMessage?: string;
  attributes: Record<string, unknown>;
}

export interface TraceSummary {
  traceId: string;
  rootName: string;
  services: string[];
  startMs: number;
  durationMs: number;
  spanCount: number;
  error: boolean;
}

export interface ChartPoint {
  at: number;
  throughput: Record<string, number>;
  errors: Record<string, number>;
  p99Ms: Record<string, number>;
  lag: Record<string, number>;
  outbox: Record<string, number>;
  handled: Record<string, number>;
}
