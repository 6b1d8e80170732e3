/**
 * The assistant service: the shop's AI assistant behind the gateway (`/api/assistant/*`). A
 * `@trellis/agent` loop over the shop tools, whose calls go to the real services with the
 * user's own verified identity; runs, transcripts and pending approvals in the service's own
 * database (a SQLite file embedded, PostgreSQL distributed), so a paused run survives a
 * restart; the model chosen by environment (`modelFromEnv`: Anthropic, OpenAI, any
 * OpenAI-compatible server, or none, in which case it says so); and the same tools over MCP.
 */
import {
  Agent,
  isModelProviderError,
  modelFromEnv,
  resolveModelConfig,
  SqlRunStore,
  ToolRegistry,
} from '@trellis/agent';
import { CircuitBreaker, isTimeoutError } from '@trellis/resilience';
import type { Service } from '@trellis/service';
import { createShopService, type ShopContext } from '../../platform/shop-service.js';
import { mountAssistant } from './assistant-http.js';
import { assistantPrompt } from './assistant-prompt.js';
import { closeClients, serviceClients } from './shop-clients.js';
import { createShopTools } from './shop-tools.js';

/**
 * Limits of one invocation. The deadline stays under the gateway's identity tokens' 60 s
 * lifetime: tools forward the caller's token, and a run resumed later gets a fresh one.
 */
const LIMITS = { maxSteps: 8, maxToolCalls: 16, deadlineMs: 55_000, tokenBudget: 100_000 };

/**
 * Builds the assistant service.
 *
 * Throws `ValidationError` naming the variable when the model environment is malformed (an
 * unknown provider, a URL that is not http(s)): the process then fails to start, loudly.
 *
 * @example
 * ```ts
 * const service = await build(await createShopContext('assistant', config));
 * await service.listen({ port: 3008 });
 * ```
 */
export async function build(ctx: ShopContext, env: NodeJS.ProcessEnv = process.env): Promise<Service> {
  const modelConfig = resolveModelConfig(env);
  const model = modelFromEnv(env);
  const store = new SqlRunStore(ctx.backend.db);
  // Replicas starting together on PostgreSQL can collide on CREATE TABLE; the loser retries.
  await store.migrate().catch(() => store.migrate());
  // Chat turns are not replayed by key (a conversation turn is never "the same request").
  const service = await createShopService(ctx, [], { idempotency: false, idempotencyStore: 'memory' });
  const clients = serviceClients(service, (name) => ctx.upstream(name));
  const registry = new ToolRegistry(createShopTools(clients));
  const modelBreaker = new CircuitBreaker({
    name: 'model',
    failureThreshold: 5,
    timeout: 30_000,
    clock: ctx.clock,
    // The provider failing or hanging counts; a refusal of our own request does not.
    isFailure: (e) => isTimeoutError(e) || (isModelProviderError(e) && (e.providerStatus ?? 500) >= 500),
  });
  ctx.metrics.trackBreaker(modelBreaker, 'model');
  const agent = new Agent({
    name: 'shop-assistant',
    model,
    tools: registry,
    store,
    system: assistantPrompt,
    limits: LIMITS,
    toolTimeoutMs: 15_000,
    modelPolicy: modelBreaker,
    clock: ctx.clock,
    ...(service.tracing ? { tracer: service.tracing.tracer } : {}),
  });
  // Runs a crashed process left mid-step are closed, not resumed (a tool may have acted).
  const interrupted = await agent.failInterrupted();
  if (interrupted.length > 0) ctx.logger.warn({ runs: interrupted }, 'closed runs interrupted by a crash');
  mountAssistant(service, { agent, registry, model: modelConfig });
  if (modelConfig.provider === 'none') {
    ctx.logger.warn({ reason: modelConfig.reason }, 'no model configured: chat answers 503; MCP tools work');
  } else {
    const { provider, model: name, baseURL } = modelConfig;
    ctx.logger.info({ provider, model: name, baseURL }, 'assistant model');
  }
  service.onClose('tool clients', () => closeClients(clients));
  return service;
}
