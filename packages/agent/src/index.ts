// Public API of @trellis/agent.
export {
  type AgentLimit,
  AgentLimitExceededError,
  AgentRunFailedError,
  CassetteMismatchError,
  isAgentLimitExceededError,
  isAgentRunFailedError,
  isCassetteMismatchError,
  isModelProviderError,
  isNoModelConfiguredError,
  isPayloadTooLargeError,
  isScriptMismatchError,
  isToolDefinitionError,
  ModelProviderError,
  NO_MODEL_MESSAGE,
  NoModelConfiguredError,
  PayloadTooLargeError,
  ScriptMismatchError,
  ToolDefinitionError,
} from './errors.js';
export {
  type AgentRoutes,
  type AgentRoutesOptions,
  createAgentRoutes,
  type HandleOptions,
} from './http/agent-routes.js';
export { agentEventJson, encodeSseEvent, type SseOptions, writeSse } from './http/sse.js';
export { Principal, toPrincipal, type UserIdentity, userIdentitySchema } from './identity.js';
export { Agent } from './loop/agent.js';
export type { AgentOptions, AgentRunStream, ResumeInput, RunInput } from './loop/agent-types.js';
export {
  AGENT_PERMISSIONS,
  type ApprovalDecisionInput,
  approvalDecisionsSchema,
  type CanApprove,
  ownerOrApprover,
} from './loop/approvals.js';
export type { AgentEvent, AgentEventType } from './loop/events.js';
export { type AgentLimits, DEFAULT_LIMITS, resolveLimits } from './loop/limits.js';
export { failInterruptedRuns, RUN_INTERRUPTED } from './loop/recovery.js';
export {
  type AwaitingApprovalRun,
  type CompletedRun,
  type FailedRun,
  type LimitExceededRun,
  type RunResult,
  resultFromRecord,
  resultToJson,
} from './loop/run-result.js';
export { createMcpHttpHandler, type McpHttpHandler, type McpHttpOptions } from './mcp/mcp-http.js';
export { createMcpServer, type McpApprovalMode, type McpToolServerOptions } from './mcp/mcp-server.js';
export { identityFromEnv, type McpStdioOptions, serveMcpStdio } from './mcp/mcp-stdio.js';
export type {
  AssistantMessage,
  JsonSchemaObject,
  Message,
  ModelDelta,
  ModelRequest,
  ModelResponse,
  StopReason,
  ToolCall,
  ToolResult,
  ToolResultsMessage,
  ToolSpec,
  Usage,
  UserMessage,
} from './messages.js';
export { AnthropicProvider, type AnthropicProviderOptions } from './providers/anthropic.js';
export {
  type Cassette,
  type CassetteInteraction,
  cassetteModel,
  RecordingModel,
  ReplayModel,
  type RequestNormalizer,
} from './providers/cassette.js';
export {
  DEFAULT_MODELS,
  type ModelConfig,
  modelFromEnv,
  resolveModelConfig,
  UnconfiguredModel,
} from './providers/from-env.js';
export { OpenAIProvider, type OpenAIProviderOptions } from './providers/openai.js';
export type { MaxTokensField } from './providers/openai-mapping.js';
export type { GenerateOptions, ModelProvider } from './providers/provider.js';
export {
  lastToolResults,
  ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedTurn,
  type ScriptStep,
} from './providers/scripted.js';
export { InMemoryRunStore } from './store/memory-run-store.js';
export type {
  AgentRunRecord,
  ApprovalDecision,
  PendingApproval,
  PendingStep,
  RunQuery,
  RunStatus,
  RunStore,
  RunSummary,
  StepRecord,
  ToolCallRecord,
} from './store/run-record.js';
export { SqlRunStore } from './store/sql-run-store.js';
export {
  type ExecutionScope,
  type PreparedCall,
  ToolExecutor,
  type ToolExecutorOptions,
} from './tools/executor.js';
export { checkToolSchemas, ToolRegistry, type ToolSchemaProblem } from './tools/registry.js';
export {
  type ApprovalCheckContext,
  defineTool,
  type JsonSchemaToolDefinition,
  jsonSchemaTool,
  type ParsedArguments,
  type Tool,
  type ToolContext,
  type ToolInput,
  type ToolOptions,
  type ToolPolicy,
  toTool,
  type ZodToolDefinition,
} from './tools/tool.js';
export { ToolErrorCode } from './tools/tool-results.js';
export { traceHeaders } from './tracing.js';
