import { isConflictError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRunRecord, RunStore } from '../store/run-record.js';

/** What a conformance factory returns: a fresh, empty store and how to dispose of it. */
export interface RunStoreFixture {
  store: RunStore;
  /** Another store instance over the same storage (a "restarted process"), if supported. */
  reopen?: () => Promise<RunStore>;
  close(): Promise<void>;
}

/** A minimal valid record for tests. */
export function sampleRunRecord(id: string, overrides: Partial<AgentRunRecord> = {}): AgentRunRecord {
  return {
    id,
    version: 0,
    userId: 'alice',
    user: { id: 'alice', permissions: ['orders:read'] },
    status: 'running',
    title: 'Where is my order?',
    createdAt: 1_000,
    updatedAt: 1_000,
    messages: [{ role: 'user', content: 'Where is my order?' }],
    steps: [],
    usage: { inputTokens: 0, outputTokens: 0 },
    toolCallCount: 0,
    ...overrides,
  };
}

/**
 * Registers the behaviour every {@link RunStore} must have: round trip, optimistic versions,
 * listing with filters and pages, and (with `durable: true`, whose fixtures provide `reopen`)
 * that a second instance over the same storage shares every save and version.
 */
export function describeRunStoreConformance(
  name: string,
  factory: () => Promise<RunStoreFixture>,
  options: { durable?: boolean } = {},
): void {
  describe(`RunStore conformance: ${name}`, () => {
    let fixture: RunStoreFixture;
    beforeEach(async () => {
      fixture = await factory();
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('round-trips a record and bumps its version', async () => {
      const record = sampleRunRecord('01-a', {
        messages: [
          { role: 'user', content: 'hi' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'c1', name: 't', arguments: { a: [1, 'x'] } }],
          },
          {
            role: 'tool',
            results: [{ toolCallId: 'c1', toolName: 't', content: '{"ok":true}', isError: false }],
          },
        ],
      });
      const saved = await fixture.store.save(record);
      expect(saved.version).toBe(1);
      expect(await fixture.store.get('01-a')).toEqual(saved);
      expect(await fixture.store.get('missing')).toBeUndefined();
    });

    it('rejects a stale version and a duplicate insert with ConflictError', async () => {
      const v1 = await fixture.store.save(sampleRunRecord('01-b'));
      const v2 = await fixture.store.save({ ...v1, status: 'completed' });
      expect(v2.version).toBe(2);
      const stale = await fixture.store.save({ ...v1, status: 'failed' }).catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
      const dup = await fixture.store.save(sampleRunRecord('01-b')).catch((e: unknown) => e);
      expect(isConflictError(dup)).toBe(true);
      expect((await fixture.store.get('01-b'))?.status).toBe('completed');
    });

    it('lists newest first, filtered by user and status, in pages', async () => {
      for (const [id, userId, status] of [
        ['01-1', 'alice', 'completed'],
        ['01-2', 'bob', 'completed'],
        ['01-3', 'alice', 'awaiting_approval'],
        ['01-4', 'alice', 'completed'],
      ] as const) {
        await fixture.store.save(
          sampleRunRecord(id, {
            userId,
            status,
            toolCallCount: 2,
            pending:
              status === 'awaiting_approval'
                ? {
                    results: [],
                    approvals: [
                      {
                        id: 'p1',
                        toolCallId: 'c',
                        toolName: 't',
                        arguments: {},
                        description: 'd',
                        requestedAt: 1,
                      },
                    ],
                  }
                : undefined,
          }),
        );
      }
      const alice = await fixture.store.list({ userId: 'alice' });
      expect(alice.map((r) => r.id)).toEqual(['01-4', '01-3', '01-1']);
      expect(alice[1]).toMatchObject({ status: 'awaiting_approval', pendingApprovals: 1, toolCalls: 2 });
      expect((await fixture.store.list({ status: 'completed' })).map((r) => r.id)).toEqual([
        '01-4',
        '01-2',
        '01-1',
      ]);
      const page1 = await fixture.store.list({ limit: 2 });
      expect(page1.map((r) => r.id)).toEqual(['01-4', '01-3']);
      const page2 = await fixture.store.list({ limit: 2, before: page1[1]?.id });
      expect(page2.map((r) => r.id)).toEqual(['01-2', '01-1']);
    });

    it('keeps stored state immune to later mutation of the saved object', async () => {
      const record = sampleRunRecord('01-c');
      const saved = await fixture.store.save(record);
      saved.messages.push({ role: 'user', content: 'mutated' });
      record.title = 'mutated';
      const read = await fixture.store.get('01-c');
      expect(read?.messages).toHaveLength(1);
      expect(read?.title).toBe('Where is my order?');
    });

    if (!options.durable) return;
    it('a second store instance over the same storage sees every save', async () => {
      if (!fixture.reopen) throw new Error('a durable store fixture must provide reopen()');
      const saved = await fixture.store.save(sampleRunRecord('01-d', { status: 'awaiting_approval' }));
      const other = await fixture.reopen();
      expect(await other.get('01-d')).toEqual(saved);
      const moved = await other.save({ ...saved, status: 'completed' });
      const stale = await fixture.store.save({ ...saved, status: 'failed' }).catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
      expect((await fixture.store.get('01-d'))?.version).toBe(moved.version);
    });
  });
}
