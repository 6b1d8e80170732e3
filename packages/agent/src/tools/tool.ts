/**
 * Tools: defined once with a zod schema (the JSON Schema the model sees is generated from it)
 * or, as in the seed, with a plain JSON Schema validated by ajv. Either way the loop gets the
 * same {@link Tool}: a name, a schema, an argument parser, and `execute(args, ctx)`.
 */
import { ValidationError, type ValidationIssue } from '@trellis/core';
import type { z } from 'zod';
import { ToolDefinitionError } from '../errors.js';
import type { Principal } from '../identity.js';
import type { JsonSchemaObject } from '../messages.js';
import { compileToolSchema, zodToToolSchema } from './json-schema.js';

/** What every tool execution receives besides its arguments. */
export interface ToolContext {
  /** The end user the run acts for; scope every read and write to it. */
  readonly user: Principal;
  /** Aborts on the tool's timeout, the run's deadline, or the caller giving up; pass it on. */
  readonly signal: AbortSignal;
  /** The run (or MCP request) this call belongs to. */
  readonly runId: string;
  readonly toolCallId: string;
  /**
   * Headers for calls to downstream services: W3C `traceparent`/`tracestate` of the tool's
   * span, and the user's credential headers (`UserIdentity.credentials`) when present.
   */
  headers(): Record<string, string>;
}

/** Context for deciding whether a call needs approval. */
export interface ApprovalCheckContext {
  readonly user: Principal;
}

/**
 * Anything that can run work under a policy (a `CircuitBreaker` or a composed policy from
 * @trellis/resilience): it runs `fn` and hands it the signal to honour.
 */
export interface ToolPolicy {
  execute<T>(fn: (signal: AbortSignal) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T>;
}

/** Options shared by both ways of defining a tool. */
export interface ToolOptions<A> {
  /** `[a-zA-Z0-9_-]{1,64}`, unique in a registry (what both Anthropic and OpenAI accept). */
  name: string;
  /** What the tool does and when to use it; the model reads this. */
  description: string;
  /** Permissions the user must hold for the tool to be offered or run at all. */
  permissions?: readonly string[];
  /**
   * Whether a call pauses the run for a human decision before it executes (e.g. cancel an
   * order, refund). A function decides per call (e.g. only refunds above a threshold).
   */
  needsApproval?: boolean | ((args: A, ctx: ApprovalCheckContext) => boolean | Promise<boolean>);
  /** Per-call time limit; defaults to the agent's `toolTimeoutMs`. */
  timeoutMs?: number;
  /** A breaker (or any policy) the call runs through, e.g. one per downstream service. */
  breaker?: ToolPolicy;
  /** A one-line human description of a call, shown when asking for approval. */
  describeCall?: (args: A) => string;
}

/** A tool defined with a zod 4 object schema. */
export interface ZodToolDefinition<S extends z.ZodObject> extends ToolOptions<z.output<S>> {
  input: S;
  execute(args: z.output<S>, ctx: ToolContext): unknown;
}

/** The seed's form: a plain JSON Schema for `parameters`. */
export interface JsonSchemaToolDefinition extends ToolOptions<unknown> {
  parameters: Record<string, unknown>;
  execute(params: unknown, ctx: ToolContext): unknown;
}

/** The outcome of parsing a call's arguments. */
export type ParsedArguments = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/** A registered, validated tool. Build with {@link defineTool} or {@link jsonSchemaTool}. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** The JSON Schema of the arguments, as sent to the model and MCP clients. */
  readonly inputSchema: JsonSchemaObject;
  readonly permissions: readonly string[];
  readonly timeoutMs: number | undefined;
  readonly breaker: ToolPolicy | undefined;
  /** Validates (and for zod, coerces and defaults) the model's arguments. */
  parse(args: unknown): ParsedArguments;
  needsApproval(args: unknown, ctx: ApprovalCheckContext): boolean | Promise<boolean>;
  describeCall(args: unknown): string;
  execute(args: unknown, ctx: ToolContext): unknown;
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function checkCommon(def: ToolOptions<never>): void {
  if (typeof def.name !== 'string' || !NAME.test(def.name)) {
    throw new ToolDefinitionError(String(def.name), 'name must match [a-zA-Z0-9_-]{1,64}');
  }
  if (typeof def.description !== 'string' || def.description.trim() === '') {
    throw new ToolDefinitionError(def.name, 'description is required: the model chooses tools by it');
  }
  if (def.timeoutMs !== undefined && !(Number.isFinite(def.timeoutMs) && def.timeoutMs > 0)) {
    throw new ToolDefinitionError(def.name, 'timeoutMs must be a positive number');
  }
}

function common<A>(def: ToolOptions<A>) {
  const approval = def.needsApproval;
  return {
    name: def.name,
    description: def.description,
    permissions: Object.freeze([...(def.permissions ?? [])]),
    timeoutMs: def.timeoutMs,
    breaker: def.breaker,
    needsApproval: (args: unknown, ctx: ApprovalCheckContext) =>
      typeof approval === 'function' ? approval(args as A, ctx) : approval === true,
    describeCall: (args: unknown) => def.describeCall?.(args as A) ?? `${def.name} ${JSON.stringify(args)}`,
  };
}

/**
 * Defines a tool from a zod 4 object schema. The JSON Schema is generated and checked now, so
 * a schema the model could not read fails at start-up, not mid-conversation.
 *
 * Throws `ToolDefinitionError` for a bad name, a missing description, a non-object schema or
 * one JSON Schema cannot express.
 *
 * @example
 * ```ts
 * const searchOrders = defineTool({
 *   name: 'search_orders',
 *   description: 'Search the current user\'s orders by status',
 *   input: z.object({ status: z.enum(['pending', 'shipped', 'delivered']).optional() }),
 *   permissions: ['orders:read'],
 *   execute: ({ status }, { user, headers }) => orders.search({ customerId: user.id, status }, headers()),
 * });
 * ```
 */
export function defineTool<S extends z.ZodObject>(def: ZodToolDefinition<S>): Tool {
  checkCommon(def as ToolOptions<never>);
  const inputSchema = zodToToolSchema(def.name, def.input);
  const schema = def.input;
  return Object.freeze({
    ...common(def),
    inputSchema,
    // safeParse, never instanceof ZodError: that check breaks across zod copies (langchainjs #9461).
    parse(args: unknown): ParsedArguments {
      const parsed = schema.safeParse(args);
      return parsed.success
        ? { ok: true, value: parsed.data }
        : { ok: false, issues: ValidationError.fromZod(parsed.error, 'arguments').issues };
    },
    execute: (args: unknown, ctx: ToolContext) => def.execute(args as z.output<S>, ctx),
  });
}

/**
 * Defines a tool from the seed's plain JSON Schema form, validated with ajv (draft 2020-12 by
 * default, draft-07 when the schema says so; formats such as `email` and `date-time` checked).
 *
 * Throws `ToolDefinitionError` for a bad name, a missing description, or a schema that is not
 * a valid JSON Schema of type `object`.
 */
export function jsonSchemaTool(def: JsonSchemaToolDefinition): Tool {
  checkCommon(def as ToolOptions<never>);
  const { schema, check } = compileToolSchema(def.name, def.parameters);
  return Object.freeze({
    ...common(def),
    inputSchema: schema,
    parse(args: unknown): ParsedArguments {
      const issues = check(args);
      return issues.length === 0 ? { ok: true, value: args } : { ok: false, issues };
    },
    execute: (args: unknown, ctx: ToolContext) => def.execute(args, ctx),
  });
}

/** Any accepted way to describe a tool: built, zod form, or the seed's JSON Schema form. */
export type ToolInput = Tool | ZodToolDefinition<z.ZodObject> | JsonSchemaToolDefinition;

/** Normalises any {@link ToolInput} into a {@link Tool}. */
export function toTool(input: ToolInput): Tool {
  if ('parse' in input && 'inputSchema' in input) return input;
  if ('input' in input) return defineTool(input);
  if ('parameters' in input) return jsonSchemaTool(input);
  throw new ToolDefinitionError(
    String((input as { name?: unknown }).name),
    'needs `input` (zod) or `parameters`',
  );
}
