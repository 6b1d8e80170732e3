import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { BusConfigurationError } from '@trellis/messaging';
import type { ConsumerSpec } from './subjects.js';

/** Stream settings Trellis creates the stream with. */
export interface StreamSettings {
  name: string;
  prefix: string;
  partitions: number;
  maxAgeMs: number;
  maxBytes: number;
  duplicateWindowMs: number;
  storage: 'file' | 'memory';
  replicas: number;
}

const PARTITIONS = /trellis:partitions=(\d+)/;

/**
 * Creates the stream if missing and returns its partition count. The count is recorded in the
 * stream description (JetStream 2.9 has no stream metadata), so a publisher configured
 * differently fails loudly instead of silently breaking per-key order.
 *
 * Throws {@link BusConfigurationError} when the existing stream has another partition count
 * or does not cover the prefix.
 */
export async function ensureStream(jsm: JetStreamManager, s: StreamSettings): Promise<number> {
  const existing = await jsm.streams.info(s.name).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  const subjects = [`${s.prefix}.>`];
  if (!existing) {
    try {
      await jsm.streams.add({
        name: s.name,
        description: `trellis bus; trellis:partitions=${s.partitions}`,
        subjects,
        retention: RetentionPolicy.Limits,
        storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(s.maxAgeMs),
        max_bytes: s.maxBytes,
        duplicate_window: nanos(s.duplicateWindowMs),
        num_replicas: s.replicas,
      });
      return s.partitions;
    } catch (e) {
      // Another process created it first: fall through and read what it created.
      if (!/already in use|exists/i.test(String((e as Error).message))) throw e;
    }
  }
  const info = existing ?? (await jsm.streams.info(s.name));
  const recorded = Number(PARTITIONS.exec(info.config.description ?? '')?.[1] ?? Number.NaN);
  if (!info.config.subjects?.includes(subjects[0] as string)) {
    throw new BusConfigurationError(`Stream ${s.name} does not carry subjects ${subjects[0]}`);
  }
  if (Number.isNaN(recorded)) {
    throw new BusConfigurationError(
      `Stream ${s.name} was not created by Trellis (no partition count recorded)`,
    );
  }
  if (recorded !== s.partitions) {
    throw new BusConfigurationError(
      `Stream ${s.name} has ${recorded} partitions but this bus is configured with ${s.partitions}; every publisher and consumer must agree`,
    );
  }
  return recorded;
}

/** Options of one durable consumer. */
export interface ConsumerSettings {
  ackWaitMs: number;
  /** Outstanding unacknowledged messages across all members (1 for keyed partitions). */
  maxAckPending: number;
  from: 'new' | 'all';
}

/**
 * Creates the durable pull consumer if missing, or updates its ack wait and pending limit.
 * `max_deliver` stays unlimited on the server: Trellis counts attempts itself and
 * dead-letters after the last one, so a message can never be dropped silently by the server.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  spec: ConsumerSpec,
  settings: ConsumerSettings,
): Promise<void> {
  const config = {
    durable_name: spec.name,
    filter_subject: spec.filter,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
    max_deliver: -1,
    deliver_policy: settings.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
  };
  const existing = await jsm.consumers.info(stream, spec.name).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
  if (!existing) {
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (e) {
      if (!/already|exists/i.test(String((e as Error).message))) throw e;
    }
  }
  const current = existing?.config ?? (await jsm.consumers.info(stream, spec.name)).config;
  if (current.ack_wait !== config.ack_wait || current.max_ack_pending !== config.max_ack_pending) {
    await jsm.consumers.update(stream, spec.name, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
    });
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    err?.api_error?.err_code === 10059 ||
    err?.api_error?.err_code === 10014 ||
    /not found/i.test(String(err?.message ?? ''))
  );
}
