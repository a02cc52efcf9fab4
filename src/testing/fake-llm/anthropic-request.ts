import type { ChatRequestBody, ChatRequestMessage } from './types.js';

/**
 * Translates an Anthropic Messages request into the chat-completions shape, so the scripts,
 * matchers and fallbacks written for /v1/chat/completions serve /v1/messages unchanged:
 * `system` becomes a leading system message, `tool_result` blocks become `tool` messages,
 * `tool_use` blocks become `tool_calls`, `thinking` blocks become `reasoning_content`, and
 * `tools` take the function shape. Unknown top-level fields (max_tokens, thinking, …) are kept.
 */

type Block = Record<string, unknown>;

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.filter((b): b is Block => typeof b === 'object' && b !== null);
}

function textOf(blocks: Block[]): string {
  return blocks
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('');
}

function toolResultText(content: unknown): string {
  return typeof content === 'string' ? content : textOf(blocksOf(content));
}

function systemMessages(system: unknown): ChatRequestMessage[] {
  if (system === undefined) return [];
  const blocks = blocksOf(system);
  return blocks.length > 0 ? [{ role: 'system', content: textOf(blocks) }] : [];
}

function translateMessage(message: Record<string, unknown>): ChatRequestMessage[] {
  const blocks = blocksOf(message.content);
  if (message.role === 'assistant') {
    const reasoning = blocks
      .filter((b) => b.type === 'thinking' && typeof b.thinking === 'string')
      .map((b) => b.thinking as string)
      .join('');
    const toolCalls = blocks
      .filter((b) => b.type === 'tool_use')
      .map((b) => ({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      }));
    return [
      {
        role: 'assistant',
        content: textOf(blocks),
        ...(reasoning ? { reasoning_content: reasoning } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    ];
  }
  // A user turn: tool results first (the API requires them first), then what the user wrote.
  const out: ChatRequestMessage[] = blocks
    .filter((b) => b.type === 'tool_result')
    .map((b) => ({
      role: 'tool',
      tool_call_id: typeof b.tool_use_id === 'string' ? b.tool_use_id : '',
      content: toolResultText(b.content),
    }));
  const rest = blocks.filter((b) => b.type !== 'tool_result');
  if (rest.length > 0) out.push({ role: 'user', content: rest });
  return out;
}

function translateTools(tools: unknown): unknown[] | undefined {
  if (!Array.isArray(tools)) return undefined;
  return tools.map((tool: unknown) => {
    const t = (typeof tool === 'object' && tool !== null ? tool : {}) as Block;
    return {
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.input_schema },
    };
  });
}

/** Undefined when the body is not a Messages request (no messages array of role-bearing objects). */
export function anthropicToChatBody(raw: unknown): ChatRequestBody | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const body = raw as Record<string, unknown>;
  const { messages } = body;
  if (!Array.isArray(messages)) return undefined;
  const wellFormed = messages.every(
    (m: unknown) =>
      typeof m === 'object' && m !== null && 'role' in m && typeof m.role === 'string',
  );
  if (!wellFormed) return undefined;
  const { system, tools, ...rest } = body;
  const translatedTools = translateTools(tools);
  return {
    ...rest,
    messages: [
      ...systemMessages(system),
      ...(messages as Record<string, unknown>[]).flatMap(translateMessage),
    ],
    ...(translatedTools ? { tools: translatedTools } : {}),
  };
}
