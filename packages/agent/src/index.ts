// Public API of @trellis/agent.
export {
  type AgentLimit,
  AgentLimitExceededError,
  CassetteMismatchError,
  isAgentLimitExceededError,
  isCassetteMismatchError,
  isModelProviderError,
  isNoModelConfiguredError,
  isScriptMismatchError,
  isToolDefinitionError,
  ModelProviderError,
  NO_MODEL_MESSAGE,
  NoModelConfiguredError,
  ScriptMismatchError,
  ToolDefinitionError,
} from './errors.js';
export { Principal, toPrincipal, type UserIdentity, userIdentitySchema } from './identity.js';
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
