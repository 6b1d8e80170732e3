/**
 * JSON Schema for tool arguments, both ways: generated from zod 4 schemas (so a schema is
 * written once) and validated with ajv for tools that come as plain JSON Schema (the seed's
 * form). Generated schemas are checked here, at definition time, because a silently empty
 * `properties` (MCP typescript-sdk #1158) leaves the model guessing every argument.
 */
import type { ValidationIssue } from '@trellis/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { z } from 'zod';
import { ToolDefinitionError } from '../errors.js';
import type { JsonSchemaObject } from '../messages.js';

// ajv-formats is CommonJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;

let draft2020: Ajv2020 | undefined;
let draft07: Ajv | undefined;

function ajvFor(schema: Record<string, unknown>): Ajv | Ajv2020 {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('draft-07') || declared.includes('draft-06')) {
    if (!draft07) {
      draft07 = new Ajv({ allErrors: true, strict: false });
      addFormats(draft07);
    }
    return draft07;
  }
  if (!draft2020) {
    draft2020 = new Ajv2020({ allErrors: true, strict: false });
    addFormats(draft2020);
  }
  return draft2020;
}

/** True when `schema` is a zod 4 schema (zod 3 schemas lack the `_zod` internals). */
export function isZod4Schema(schema: unknown): schema is z.ZodType {
  return typeof schema === 'object' && schema !== null && '_zod' in schema;
}

/**
 * The JSON Schema of a zod 4 object schema, as the model should see it: the *input* side (a
 * field with a default is optional), no `$schema` key.
 *
 * Throws `ToolDefinitionError` when the schema is not a zod 4 object or holds types JSON
 * Schema cannot express (dates, transforms to functions…).
 */
export function zodToToolSchema(tool: string, schema: unknown): JsonSchemaObject {
  if (!isZod4Schema(schema)) {
    throw new ToolDefinitionError(tool, 'input must be a zod 4 schema (import { z } from "zod")');
  }
  if (!(schema instanceof z.ZodObject)) {
    throw new ToolDefinitionError(tool, 'input must be a z.object(...) schema: tool arguments are an object');
  }
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  } catch (err) {
    throw new ToolDefinitionError(
      tool,
      `input cannot be expressed as JSON Schema: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  delete json.$schema;
  const shapeKeys = Object.keys(schema.shape);
  const props = (json.properties ?? {}) as Record<string, unknown>;
  const missing = shapeKeys.filter((k) => !(k in props));
  if (missing.length > 0) {
    throw new ToolDefinitionError(tool, `generated JSON Schema lost properties: ${missing.join(', ')}`);
  }
  return { ...json, type: 'object', properties: props } as JsonSchemaObject;
}

/** A compiled JSON Schema validator returning Trellis validation issues. */
export type JsonSchemaCheck = (value: unknown) => ValidationIssue[];

/**
 * Compiles a plain JSON Schema for tool arguments. Throws `ToolDefinitionError` when it is
 * not an object schema or is not a valid JSON Schema.
 */
export function compileToolSchema(
  tool: string,
  schema: unknown,
): { schema: JsonSchemaObject; check: JsonSchemaCheck } {
  if (typeof schema !== 'object' || schema === null || (schema as { type?: unknown }).type !== 'object') {
    throw new ToolDefinitionError(tool, 'parameters must be a JSON Schema with type "object"');
  }
  const record = schema as Record<string, unknown>;
  let validate: ValidateFunction;
  try {
    validate = ajvFor(record).compile(record);
  } catch (err) {
    throw new ToolDefinitionError(tool, `parameters is not a valid JSON Schema: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const { $schema: _ignored, ...forModel } = record;
  return {
    schema: { properties: {}, ...forModel, type: 'object' } as JsonSchemaObject,
    check: (value) => (validate(value) ? [] : (validate.errors ?? []).map(toIssue)),
  };
}

function toIssue(error: ErrorObject): ValidationIssue {
  const segments = error.instancePath.split('/').filter(Boolean).map(unescapePointer);
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  if (error.keyword === 'required' && params.missingProperty) segments.push(params.missingProperty);
  if (error.keyword === 'additionalProperties' && params.additionalProperty) {
    segments.push(params.additionalProperty);
    return { path: segments.join('.'), message: 'is not an allowed property' };
  }
  return { path: segments.join('.'), message: error.message ?? 'is invalid' };
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
