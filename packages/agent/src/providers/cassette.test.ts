import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCassetteMismatchError } from '../errors.js';
import { Agent } from '../loop/agent.js';
import type { ModelRequest } from '../messages.js';
import { AnthropicSimulator } from '../testing/anthropic-simulator.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { AnthropicProvider } from './anthropic.js';
import { type Cassette, cassetteModel, RecordingModel, ReplayModel } from './cassette.js';

const { alice } = exampleUsers;
const input = 'Is the mug in stock, and what did I order?';

const shopAgent = (
  model: ConstructorParameters<typeof Agent>[0]['model'],
  system = 'You are the shop assistant.',
) => new Agent({ model, tools: createExampleShopTools(new ExampleShop()), system });

describe('record and replay of provider sessions', () => {
  let sim: AnthropicSimulator;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-cassette-'));
    sim = await AnthropicSimulator.start({
      apiKey: 'k',
      script: [
        {
          text: 'Let me check.',
          toolCalls: [
            { name: 'stock_lookup', input: { sku: 'SKU-MUG' } },
            { name: 'search_orders', input: {} },
          ],
        },
        { text: 'The mug is in stock (12), and you have two orders.' },
      ],
    });
  });
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function record(file: string) {
    const real = new AnthropicProvider({ apiKey: 'k', model: 'claude-test', baseURL: sim.url });
    const recorder = new RecordingModel(real, file);
    const result = await shopAgent(recorder).run({ user: alice, input });
    await recorder.flush();
    return result;
  }

  it('a recorded session replays offline to the same result and the same streamed deltas', async () => {
    const file = join(dir, 'session.json');
    const live = await record(file);
    expect(live.status).toBe('completed');
    const cassette = JSON.parse(readFileSync(file, 'utf8')) as Cassette;
    expect(cassette).toMatchObject({ version: 1, provider: 'anthropic', model: 'claude-test' });
    expect(cassette.interactions).toHaveLength(2);
    expect(cassette.interactions[0]?.deltas.length).toBeGreaterThan(3);
    await sim.close(); // replay must not need the provider at all

    const replay = ReplayModel.fromFile(file);
    const streamed = shopAgent(replay).stream({ user: alice, input, runId: live.runId });
    const text: string[] = [];
    for await (const e of streamed) if (e.type === 'text-delta') text.push(e.text);
    const replayed = await streamed.result;
    expect(replayed).toEqual(live);
    expect(text.join('')).toBe(`Let me check.${live.text}`);
    replay.assertDone();
  });

  it('fails on a request that differs from the recording, naming where', async () => {
    const file = join(dir, 'session.json');
    await record(file);
    const changedPrompt = await shopAgent(ReplayModel.fromFile(file), 'You are a pirate.').run({
      user: alice,
      input,
    });
    expect(changedPrompt.status).toBe('failed');
    if (changedPrompt.status === 'failed') {
      expect(isCassetteMismatchError(changedPrompt.error)).toBe(true);
      expect(changedPrompt.error.details).toEqual({ interaction: 0, path: 'system' });
    }
    // A tool whose output changed is caught on the next request.
    const replay = ReplayModel.fromFile(file);
    const shop = new ExampleShop();
    shop.stock.set('SKU-MUG', 3);
    const agent = new Agent({
      model: replay,
      tools: createExampleShopTools(shop),
      system: 'You are the shop assistant.',
    });
    const changedTool = await agent.run({ user: alice, input });
    expect(changedTool.status === 'failed' && changedTool.error.details).toEqual({
      interaction: 1,
      path: 'messages[2].results[0].content',
    });
  });

  it('a normalizer can ignore what legitimately varies', async () => {
    const file = join(dir, 'session.json');
    await record(file);
    const ignoreSystem = ({ system: _ignored, ...rest }: ModelRequest) => rest;
    const result = await shopAgent(ReplayModel.fromFile(file, ignoreSystem), 'Another prompt.').run({
      user: alice,
      input,
    });
    expect(result.status).toBe('completed');
  });

  it('cassetteModel records when the cassette is missing and replays when it exists', async () => {
    const file = join(dir, 'auto.json');
    const real = () => new AnthropicProvider({ apiKey: 'k', model: 'claude-test', baseURL: sim.url });
    const first = cassetteModel(file, real);
    expect(first).toBeInstanceOf(RecordingModel);
    await shopAgent(first).run({ user: alice, input });
    await (first as RecordingModel).flush();
    const second = cassetteModel(file, () => {
      throw new Error('must not build the real provider when replaying');
    });
    expect(second).toBeInstanceOf(ReplayModel);
    expect((await shopAgent(second).run({ user: alice, input })).status).toBe('completed');
  });
});

describe('a committed cassette is a regression test', () => {
  it('replays the captured "cancel my order" conversation', async () => {
    const file = fileURLToPath(new URL('../testing/cassettes/cancel-order.json', import.meta.url));
    const replay = ReplayModel.fromFile(file);
    const shop = new ExampleShop();
    const agent = new Agent({
      model: replay,
      tools: createExampleShopTools(shop),
      system: 'You are the shop assistant.',
    });
    const paused = await agent.run({
      user: alice,
      input: 'Please cancel my pending order.',
      runId: 'regression',
    });
    expect(paused.status).toBe('awaiting_approval');
    const approvalId = paused.status === 'awaiting_approval' ? (paused.approvals[0]?.id ?? '') : '';
    const done = await agent.resume({
      runId: paused.runId,
      user: alice,
      decisions: [{ approvalId, approve: true }],
    });
    expect(done).toMatchObject({ status: 'completed' });
    expect(shop.orders.get('o-alice-2')?.status).toBe('cancelled');
    replay.assertDone();
  });
});
