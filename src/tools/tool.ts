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

export interface Tool {
  name: string;
  /** Written for the model: when to use the tool and what it returns. */
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Read-only tools are the ones PLAN mode allows (B20). */
  readOnly: boolean;
  /** Only root chats get this tool (spawning agents, creating workspaces). */
  rootOnly?: boolean;
  /** Offered in PLAN mode even though it is not read-only (ask_user_question, propose_plan). */
  planTool?: boolean;
  execute(args: Record<string, unknown>, context: ToolContext): Promise<ToolOutcome>;
}

export const ok = (result: unknown): ToolOutcome => ({ result, isError: false });
export const fail = (message: string, details: Record<string, unknown> = {}): ToolOutcome => ({
  result: { error: message, ...details },
  isError: true,
});

export function toToolSpec(tool: Tool): ToolSpec {
  return { name: tool.name, description: tool.description, parameters: tool.parameters };
}
