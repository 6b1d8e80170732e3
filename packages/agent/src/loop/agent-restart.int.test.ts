import { PostgresDatabase } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { lastToolResults, ScriptedModel } from '../providers/scripted.js';
import { SqlRunStore } from '../store/sql-run-store.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';

describe.skipIf(!serverUrl('postgres'))('approval pause and resume across instances (PostgreSQL)', () => {
  it('a run paused through one connection pool resumes through another', async () => {
    const url = await createTestDatabase('agent_restart');
    const { alice } = exampleUsers;
    const first = PostgresDatabase.connect(url);
    const firstStore = new SqlRunStore(first);
    await firstStore.migrate();
    const pausing = new Agent({
      model: new ScriptedModel([
        { toolCalls: [{ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } }] },
      ]),
      tools: createExampleShopTools(new ExampleShop()),
      store: firstStore,
    });
    const paused = await pausing.run({ user: alice, input: 'cancel o-alice-2' });
    await first.close();
    expect(paused.status).toBe('awaiting_approval');
    const approvalId = paused.status === 'awaiting_approval' ? (paused.approvals[0]?.id ?? '') : '';

    const second = PostgresDatabase.connect(url);
    try {
      const shop = new ExampleShop();
      const model = new ScriptedModel([
        {
          expect: (req) => lastToolResults(req)[0]?.errorCode === 'TOOL_REJECTED',
          reply: { text: 'Left as it is.' },
        },
      ]);
      const agent = new Agent({ model, tools: createExampleShopTools(shop), store: new SqlRunStore(second) });
      const result = await agent.resume({
        runId: paused.runId,
        user: alice,
        decisions: [{ approvalId, approve: false, reason: 'changed my mind' }],
      });
      expect(result).toMatchObject({ status: 'completed', text: 'Left as it is.' });
      expect(shop.orders.get('o-alice-2')?.status).toBe('pending');
      const stored = await agent.getRun(paused.runId, alice);
      expect(stored.steps).toHaveLength(2);
      expect(stored.steps[0]?.toolCalls[0]).toMatchObject({
        toolName: 'cancel_order',
        errorCode: 'TOOL_REJECTED',
      });
      model.assertDone();
    } finally {
      await second.close();
    }
  });
});
