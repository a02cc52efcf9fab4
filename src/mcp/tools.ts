import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';

import type { Logger } from '../logger.js';
import { fail, ok, type JsonSchema, type Tool, type ToolOutcome } from '../tools/tool.js';
import type { McpConnectionConfig, McpConnectionPool } from './pool.js';

/**
 * A server's MCP tools as registry tools (issue #12), named `<server>__<tool>`. The schema is the
 * server's own (the server validates the arguments, so `parse` only passes them on); calls carry
 * the turn's signal and a timeout, and every failure is an error result plus a warning, never a
 * failed turn.
 */
export const TOOL_NAME_SEPARATOR = '__';
/** What OpenAI and Anthropic accept as a tool name. */
const MAX_TOOL_NAME = 64;
const INVALID_NAME_CHARACTERS = /[^a-zA-Z0-9_-]/g;
const MAX_DESCRIPTION = 4_000;
/** Text kept from one result: the model's context is not the place for a 10 MB dump. */
export const MAX_RESULT_TEXT = 100_000;

export interface McpServerForTools {
  name: string;
  displayName: string;
  allowList: string[];
  denyList: string[];
  connection: McpConnectionConfig;
}

export interface McpToolDeps {
  pool: McpConnectionPool;
  logger: Logger;
  callTimeoutMs: number;
}

/** The name the model sees; null when the tool's own name cannot make a valid one. */
export function exposedToolName(serverName: string, toolName: string): string | null {
  const name = `${serverName}${TOOL_NAME_SEPARATOR}${toolName.replace(INVALID_NAME_CHARACTERS, '_')}`;
  return name.length <= MAX_TOOL_NAME ? name : null;
}

/** The allow list (when not empty) and the deny list, on the server's own tool names. */
export function isToolAllowed(
  server: Pick<McpServerForTools, 'allowList' | 'denyList'>,
  name: string,
) {
  if (server.allowList.length > 0 && !server.allowList.includes(name)) return false;
  return !server.denyList.includes(name);
}

/** Registry tools for one server's tool list, filtered; names that cannot be offered are logged. */
export function toolsOfServer(
  deps: McpToolDeps,
  server: McpServerForTools,
  mcpTools: readonly McpTool[],
): Tool[] {
  const tools: Tool[] = [];
  const taken = new Set<string>();
  for (const mcpTool of mcpTools) {
    if (!isToolAllowed(server, mcpTool.name)) continue;
    const name = exposedToolName(server.name, mcpTool.name);
    if (name === null || taken.has(name)) {
      deps.logger.warn('MCP tool left out: its name is too long or clashes once made valid', {
        mcpServer: server.name,
        tool: mcpTool.name.slice(0, 200),
      });
      continue;
    }
    taken.add(name);
    tools.push(adaptTool(deps, server, mcpTool, name));
  }
  return tools;
}

function adaptTool(
  deps: McpToolDeps,
  server: McpServerForTools,
  mcpTool: McpTool,
  name: string,
): Tool<Record<string, unknown>> {
  const summary = mcpTool.description?.trim() || mcpTool.title || mcpTool.name;
  return {
    name,
    description: `[${server.displayName} MCP] ${summary}`.slice(0, MAX_DESCRIPTION),
    parameters: toolParameters(mcpTool.inputSchema),
    // The server validates; an invalid call comes back as its error result.
    parse: (args) => ({ data: args }),
    // A remote action: not read-only, so PLAN mode never offers it (B20).
    readOnly: false,
    async execute(args, context) {
      try {
        const result = await deps.pool.callTool(server.connection, mcpTool.name, args, {
          signal: context.signal,
          timeoutMs: deps.callTimeoutMs,
        });
        return toToolOutcome(result);
      } catch (error) {
        if (context.signal.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        deps.logger.warn('MCP tool call failed', {
          mcpServer: server.name,
          tool: mcpTool.name,
          chatId: context.chatId,
          error: message,
        });
        return fail(`MCP server ${server.name} failed: ${message}`);
      }
    },
  };
}

/** The server's input schema as a JSON-schema object (MCP guarantees `type: "object"`). */
function toolParameters(inputSchema: McpTool['inputSchema']): JsonSchema {
  return { ...inputSchema, type: 'object', properties: inputSchema.properties ?? {} };
}

/**
 * A CallToolResult as the model's tool result: text blocks joined; images, audio and resources
 * summarised (the model gets a description, not megabytes of base64); isError kept.
 */
export function toToolOutcome(result: CallToolResult): ToolOutcome {
  const pieces: string[] = [];
  for (const block of result.content ?? []) {
    switch (block.type) {
      case 'text':
        pieces.push(block.text);
        break;
      case 'image':
      case 'audio':
        pieces.push(`[${block.type}: ${block.mimeType}, ${base64Bytes(block.data)} bytes]`);
        break;
      case 'resource': {
        const resource = block.resource;
        const mime = resource.mimeType ? ` (${resource.mimeType})` : '';
        pieces.push(
          'text' in resource && typeof resource.text === 'string'
            ? `[resource ${resource.uri}${mime}]\n${resource.text}`
            : `[resource ${resource.uri}${mime}, binary]`,
        );
        break;
      }
      case 'resource_link':
        pieces.push(`[resource link ${block.uri}${block.name ? ` "${block.name}"` : ''}]`);
        break;
      default:
        pieces.push(`[${(block as { type: string }).type} content]`);
    }
  }
  const text = capText(pieces.join('\n'));
  if (result.isError) return fail(text || 'The MCP tool reported an error');
  const structured = result.structuredContent;
  return ok(structured === undefined ? { content: text } : { content: text, structured });
}

function base64Bytes(data: string) {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}

function capText(text: string) {
  return text.length <= MAX_RESULT_TEXT
    ? text
    : `${text.slice(0, MAX_RESULT_TEXT)}\n[… ${text.length - MAX_RESULT_TEXT} more characters cut]`;
}
