/**
 * The set of tools an agent (or an MCP server) offers. Which tools a user is offered, and may
 * call, depends on the permissions each tool declares.
 */
import { ToolDefinitionError } from '../errors.js';
import type { Principal } from '../identity.js';
import type { ToolSpec } from '../messages.js';
import { compileToolSchema } from './json-schema.js';
import { type Tool, type ToolInput, toTool } from './tool.js';

/**
 * A registry of tools, keyed by name.
 *
 * @example
 * ```ts
 * const tools = new ToolRegistry([searchOrders, cancelOrder]);
 * tools.specs(user); // what the model is told about, filtered by the user's permissions
 * ```
 */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: readonly ToolInput[] = []) {
    for (const tool of tools) this.register(tool);
  }

  /** Adds tools. Throws `ToolDefinitionError` on a duplicate name or an invalid definition. */
  register(...tools: ToolInput[]): this {
    for (const input of tools) {
      const tool = toTool(input);
      if (this.tools.has(tool.name)) throw new ToolDefinitionError(tool.name, 'is already registered');
      this.tools.set(tool.name, tool);
    }
    return this;
  }

  /** The tool called `name`, if registered. */
  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  /** Every registered tool, in registration order. */
  all(): Tool[] {
    return [...this.tools.values()];
  }

  /** The tools `user` holds every declared permission for. */
  available(user: Principal): Tool[] {
    return this.all().filter((t) => user.canAll(t.permissions));
  }

  /** Tool specs for the model: all tools, or only those available to `user`. */
  specs(user?: Principal): ToolSpec[] {
    const tools = user ? this.available(user) : this.all();
    return tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
  }
}

/** One problem found in a tool's generated JSON Schema. */
export interface ToolSchemaProblem {
  tool: string;
  problem: string;
}

/**
 * Checks the JSON Schema of every tool the way a model or MCP client will read it: an object
 * schema that ajv compiles, every required field declared, no property left as an empty `{}`
 * (what a zod-version mismatch produces: MCP typescript-sdk #1158). Returns the problems; an
 * empty array means every schema is usable. Call it in each service's tests.
 */
export function checkToolSchemas(registry: ToolRegistry): ToolSchemaProblem[] {
  const problems: ToolSchemaProblem[] = [];
  for (const tool of registry.all()) {
    const report = (problem: string) => problems.push({ tool: tool.name, problem });
    const schema = JSON.parse(JSON.stringify(tool.inputSchema)) as Record<string, unknown>;
    if (schema.type !== 'object') report('schema type is not "object"');
    const props = schema.properties;
    if (typeof props !== 'object' || props === null || Array.isArray(props)) {
      report('schema has no "properties" object');
      continue;
    }
    for (const [key, value] of Object.entries(props as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null || Object.keys(value).length === 0) {
        report(`property "${key}" has an empty schema`);
      }
    }
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in props)) report(`required property "${key}" is not declared`);
    }
    try {
      compileToolSchema(tool.name, schema);
    } catch (err) {
      report((err as Error).message);
    }
  }
  return problems;
}
