/**
 * The secrets test's assistant flows (a scripted model holding a distinctive API key: tool
 * calls, streaming, MCP, and the provider refusing the key) and its collection of what the
 * ops side shows: every recorded trace with all its spans, the ops answers, and each
 * instance's open endpoints (metrics, OpenAPI, health).
 */
import type { OpenAISimulator } from '@trellis/agent/testing';
import type { Topology } from '../supervisor/topology.js';
import { send } from './raw-http.js';
import type { Evidence } from './secrets-capture.js';
import type { FlowUser, RecordingClient } from './secrets-flows.js';
import type { KnownSecret } from './secrets-scan.js';

/** Talks to the assistant as `user`; returns the secrets it involved (the model's key). */
export async function assistantFlows(
  http: RecordingClient,
  sim: OpenAISimulator,
  user: FlowUser,
  modelKey: string,
): Promise<{ secrets: KnownSecret[] }> {
  await http.call('GET', '/api/assistant', { token: user.token });
  sim.enqueue({ toolCalls: [{ name: 'search_orders', input: {} }] }, { text: 'You have orders.' });
  await http.call('POST', '/api/assistant/chat', {
    token: user.token,
    body: { message: 'What did I order?' },
  });
  sim.enqueue(
    { toolCalls: [{ name: 'stock_lookup', input: { productIds: ['p-mug'] } }] },
    { text: 'In stock.' },
  );
  await http.call('POST', '/api/assistant/chat', {
    token: user.token,
    headers: { accept: 'text/event-stream' },
    body: { message: 'Are mugs in stock?' },
  });
  // The provider refuses the key, quoting it masked the way OpenAI does: an error path.
  sim.enqueue({
    fail: {
      status: 401,
      type: 'invalid_request_error',
      message: `Incorrect API key provided: ${modelKey.slice(0, 6)}************${modelKey.slice(-4)}.`,
    },
  });
  await http.call('POST', '/api/assistant/chat', { token: user.token, body: { message: 'Hello?' } });
  await http.call('POST', '/api/assistant/mcp', {
    token: user.token,
    headers: { accept: 'application/json, text/event-stream' },
    body: {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'search_products', arguments: { query: 'mug' } },
    },
  });
  await http.call('GET', '/api/assistant/runs?limit=20', { token: user.token });
  return { secrets: [{ name: 'model API key (OPENAI_API_KEY)', value: modelKey }] };
}

/** Everything the ops API shows an admin (every trace in full), and each instance's open endpoints. */
export async function opsEvidence(adminToken: string, topology: Topology): Promise<Evidence[]> {
  const out: Evidence[] = [];
  const gateway = topology.gatewayUrl;
  const asAdmin = async (where: string, path: string) => {
    const res = await send(gateway, {
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    out.push({ where, text: res.text });
    return res;
  };
  const listed = await asAdmin('ops traces', '/api/ops/traces?limit=500');
  const traces = ((listed.json as { items?: Array<{ traceId: string }> } | undefined)?.items ?? []).map(
    (x) => x.traceId,
  );
  for (const id of traces) await asAdmin(`trace ${id}`, `/api/ops/traces/${id}`);
  for (const path of [
    '/api/ops/overview',
    '/api/ops/breakers',
    '/api/ops/alerts',
    '/api/ops/faults',
    '/api/ops/charts?minutes=5',
    '/api/ops/sagas?limit=1000',
    '/api/ops/dead-letters?limit=1000',
    '/api/ops/events?limit=500',
  ])
    await asAdmin(`ops ${path}`, path);
  for (const i of topology.instances) {
    for (const path of ['/metrics', '/openapi.json', '/health/ready'])
      out.push({
        where: `instance ${i.service}#${i.replica} ${path}`,
        text: (await send(i.url, { method: 'GET', path })).text,
      });
  }
  out.push({
    where: 'gateway health',
    text: (await send(gateway, { method: 'GET', path: '/__gateway/health/live' })).text,
  });
  return out;
}
