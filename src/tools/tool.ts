import { z } from 'zod';

import type { ToolSpec } from '../llm/index.js';
import type { TurnEnd } from '../chats/plan-mode.js';

/**
 * A tool the model may call. Tools are built from their dependencies (one file each) and never
 * throw for expected failures: they return an error result, which the model sees as a
 * ToolResultPart with isError and the turn goes on (B17). A thrown error is treated the same way
 * by the registry, with a generic message.
 */
export interface ToolContext {
  chatId: string;
  ownerId: string;
  /** The chat's root (itself for a root chat). */
  rootChatId: string;
  /** Subagent chats cannot spawn agents or create workspaces (B19). */
  isSubagent: boolean;
  /** An explore subagent (spawn_explore_agent): only read_file, execute and process_output. */
  explore?: boolean;
  mode: 'DEFAULT' | 'PLAN';
  workspaceId: string | null;
  /** Aborted when the turn is interrupted or the worker stops. */
  signal: AbortSignal;
}

export interface ToolOutcome {
  result: unknown;
  isError: boolean;
  /**
   * Set by ask_user_question and propose_plan (B20): the turn ends after this step's tool results,
   * and the daemon keeps the question or plan on the chat.
   */
  endsTurn?: TurnEnd;
}

/** A JSON schema, as offered to the model. */
export type JsonSchema = Record<string, unknown>;

/** The arguments a tool accepted, or the error result the model gets instead. */
export type ParsedArgs<Args> =
  { data: Args; error?: undefined } | { data?: undefined; error: ToolOutcome };

/**
 * The registry's view of a tool. Most tools are written with defineTool (a zod schema gives both
 * `parameters` and `parse`); a tool whose schema comes ready-made (a remote MCP tool) brings its
 * JSON schema and a `parse` of its own.
 */
export interface Tool<Args = unknown> {
  name: string;
  /** Written for the model: when to use the tool and what it returns. */
  description: string;
  /** JSON schema of the arguments object. */
  parameters: JsonSchema;
  /** Checks the model's arguments (already known to be a JSON object) before execute runs. */
  parse(args: Record<string, unknown>): ParsedArgs<Args>;
  /** Read-only tools are the ones PLAN mode allows (B20). */
  readOnly: boolean;
  /** Only root chats get this tool (spawning agents, creating workspaces). */
  rootOnly?: boolean;
  /** Offered in PLAN mode even though it is not read-only (ask_user_question, propose_plan). */
  planTool?: boolean;
  /** Runs with what `parse` returned. Method syntax: a Tool<Args> is usable as a Tool. */
  execute(args: Args, context: ToolContext): Promise<ToolOutcome>;
}

/** A tool described by a zod schema: arguments, their rules and descriptions (`.describe()`). */
export interface ToolDefinition<Schema extends z.ZodType<Record<string, unknown>>> extends Omit<
  Tool<z.output<Schema>>,
  'parameters' | 'parse'
> {
  schema: Schema;
}

/** Builds a tool whose JSON schema and argument parser both come from one zod schema. */
export function defineTool<Schema extends z.ZodType<Record<string, unknown>>>(
  definition: ToolDefinition<Schema>,
): Tool<z.output<Schema>> {
  const { schema, ...tool } = definition;
  return { ...tool, parameters: toolParameters(schema), parse: (args) => parseArgs(schema, args) };
}

/**
 * The JSON schema of what the model sends (`io: 'input'`: before defaults and transforms). A rule
 * zod cannot express in JSON schema throws here, when the registry is built, rather than being
 * silently missing from what the model is told.
 */
export function toolParameters(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'throw',
  });
  return parameters;
}

/** Validates tool arguments; on failure returns the error result, in words a model can act on. */
export function parseArgs<Schema extends z.ZodType>(
  schema: Schema,
  args: unknown,
): ParsedArgs<z.output<Schema>> {
  const parsed = schema.safeParse(args);
  if (parsed.success) return { data: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      return `${where} is required`;
    }
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  return { error: fail(`Invalid arguments: ${problems.join('; ')}`) };
}

export const ok = (result: unknown): ToolOutcome => ({ result, isError: false });
export const fail = (message: string, details: Record<string, unknown> = {}): ToolOutcome => ({
  result: { error: message, ...details },
  isError: true,
});

export function toToolSpec(tool: Tool): ToolSpec {
  return { name: tool.name, description: tool.description, parameters: tool.parameters };
}
