import type {
  ContentBlockParam,
  MessageParam,
  RawMessageStreamEvent,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { parseToolCall } from './openai-mapping.js';
import type {
  FinishReason,
  LlmAttachment,
  LlmMessage,
  StreamChunk,
  TokenUsage,
  ToolSpec,
} from './types.js';

/**
 * Translation between the provider-neutral prompt and Anthropic's Messages API, and the assembly
 * of its stream events into StreamChunks. Pure: anthropic.ts does the HTTP.
 */

const EPHEMERAL = { type: 'ephemeral' } as const;
/**
 * The API allows four cache breakpoints: the system prompt, the tools and the last two user
 * turns. The older of the two turns is the prefix the previous call wrote, so it is read back;
 * the newest extends the cache for the next call.
 */
const CACHED_USER_TURNS = 2;

export interface AnthropicPrompt {
  system: TextBlockParam[];
  messages: MessageParam[];
}

function parseInput(argumentsJson: string): unknown {
  try {
    const value: unknown = JSON.parse(argumentsJson);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    // The call failed as a tool call already; the API only accepts an object here.
    return {};
  }
}

function assistantBlocks(message: Extract<LlmMessage, { role: 'assistant' }>): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  // Only signed blocks can be sent back: the API rejects unsigned or altered thinking, and
  // reasoning from another provider (no signature) is simply left out.
  for (const block of message.reasoning ?? []) {
    if (block.redactedData) blocks.push({ type: 'redacted_thinking', data: block.redactedData });
    else if (block.signature) {
      blocks.push({ type: 'thinking', thinking: block.text, signature: block.signature });
    }
  }
  if (message.content.length > 0) blocks.push({ type: 'text', text: message.content });
  for (const call of message.toolCalls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.name,
      input: parseInput(call.argumentsJson),
    });
  }
  return blocks;
}

/** Appends to the last message when it has the same role: the API wants the roles alternating. */
function push(messages: MessageParam[], role: 'user' | 'assistant', blocks: ContentBlockParam[]) {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last && last.role === role && Array.isArray(last.content)) {
    // Tool results must come first in a user turn, so they go before text already there.
    const results = blocks.filter((b) => b.type === 'tool_result');
    const others = blocks.filter((b) => b.type !== 'tool_result');
    const existingResults = last.content.filter((b) => b.type === 'tool_result');
    const existingOthers = last.content.filter((b) => b.type !== 'tool_result');
    last.content = [...existingResults, ...results, ...existingOthers, ...others];
    return;
  }
  messages.push({ role, content: [...blocks] });
}

/**
 * The leading system messages become the system prompt; a system message later in the history
 * (Anthropic has no such role there) is given to the model as a user-side note.
 */
export function toAnthropicPrompt(messages: readonly LlmMessage[]): AnthropicPrompt {
  const system: TextBlockParam[] = [];
  const out: MessageParam[] = [];
  let leading = true;
  for (const message of messages) {
    if (message.role !== 'system') leading = false;
    switch (message.role) {
      case 'system':
        if (message.content.length === 0) break;
        if (leading) system.push({ type: 'text', text: message.content });
        else push(out, 'user', [{ type: 'text', text: `[System note] ${message.content}` }]);
        break;
      case 'user':
        push(out, 'user', [
          ...attachmentBlocks(message.attachments ?? []),
          ...(message.content.length > 0 ? [{ type: 'text' as const, text: message.content }] : []),
        ]);
        break;
      case 'assistant':
        push(out, 'assistant', assistantBlocks(message));
        break;
      case 'tool':
        push(out, 'user', [
          { type: 'tool_result', tool_use_id: message.toolCallId, content: message.content },
        ]);
        break;
    }
  }
  addCacheBreakpoints(system, out);
  return { system, messages: out };
}

/** Images as image blocks and PDFs as document blocks, before the text (as the docs advise). */
function attachmentBlocks(attachments: readonly LlmAttachment[]): ContentBlockParam[] {
  return attachments.map((file): ContentBlockParam => {
    if (file.mediaType === 'application/pdf') {
      return {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: file.base64 },
        title: file.name,
      };
    }
    return {
      type: 'image',
      source: {
        type: 'base64',
        media_type: file.mediaType as 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp',
        data: file.base64,
      },
    };
  });
}

function addCacheBreakpoints(system: TextBlockParam[], messages: MessageParam[]): void {
  const lastSystem = system.at(-1);
  if (lastSystem) lastSystem.cache_control = EPHEMERAL;
  const userTurns = messages.filter((m) => m.role === 'user').slice(-CACHED_USER_TURNS);
  for (const turn of userTurns) {
    if (!Array.isArray(turn.content)) continue;
    const last = turn.content.at(-1);
    // Thinking blocks cannot carry cache_control; a user turn never holds one anyway.
    if (last && last.type !== 'thinking' && last.type !== 'redacted_thinking') {
      last.cache_control = EPHEMERAL;
    }
  }
}

export function toAnthropicTools(tools: readonly ToolSpec[]): Tool[] {
  return tools.map((tool, index) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.parameters as Tool['input_schema'],
    // The breakpoint on the last tool caches the whole tool list.
    ...(index === tools.length - 1 ? { cache_control: EPHEMERAL } : {}),
  }));
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Anthropic's input_tokens already excludes cache reads and writes, so each maps to its own
 * bucket as is. Reasoning is not broken out by the API: it is inside output_tokens.
 */
export function mapAnthropicUsage(usage: {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}): TokenUsage {
  return {
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    reasoningTokens: 0,
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cacheWriteTokens: count(usage.cache_creation_input_tokens),
  };
}

export function mapStopReason(
  reason: string | null | undefined,
  hasToolCalls: boolean,
): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    case 'pause_turn':
      return 'pause';
    default:
      return 'other';
  }
}

interface OpenBlock {
  kind: 'text' | 'thinking' | 'tool' | 'other';
  signature: string;
  /** For tool blocks: their position among the message's tool calls. */
  toolIndex: number;
}

type UsageFields = Parameters<typeof mapAnthropicUsage>[0];

/**
 * Turns the raw stream events of one message into StreamChunks, keeping what the end needs: the
 * tool calls (ids, names, argument JSON in order), the usage and the stop reason.
 */
export class AnthropicStreamAssembler {
  private readonly blocks = new Map<number, OpenBlock>();
  private readonly tools: { id: string; name: string; args: string }[] = [];
  private usage: UsageFields | undefined;
  stopReason: string | null | undefined;
  stopped = false;

  accept(event: RawMessageStreamEvent): StreamChunk[] {
    switch (event.type) {
      case 'message_start':
        this.usage = { ...event.message.usage };
        return [];
      case 'content_block_start':
        return this.start(event.index, event.content_block);
      case 'content_block_delta':
        return this.delta(event.index, event.delta);
      case 'content_block_stop': {
        const block = this.blocks.get(event.index);
        if (block?.kind === 'thinking' && block.signature) {
          return [{ type: 'reasoning-signature', signature: block.signature }];
        }
        return [];
      }
      case 'message_delta': {
        this.stopReason = event.delta.stop_reason;
        // message_delta's counts are cumulative; the prompt-side ones may be null there.
        const update = Object.fromEntries(
          Object.entries(event.usage).filter(([, value]) => typeof value === 'number'),
        );
        this.usage = { ...this.usage, ...update };
        return [];
      }
      case 'message_stop':
        this.stopped = true;
        return [];
      default:
        return [];
    }
  }

  private start(
    index: number,
    block: Extract<RawMessageStreamEvent, { type: 'content_block_start' }>['content_block'],
  ): StreamChunk[] {
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text', signature: '', toolIndex: -1 });
        return block.text ? [{ type: 'text-delta', text: block.text }] : [];
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking', signature: block.signature, toolIndex: -1 });
        return block.thinking ? [{ type: 'reasoning-delta', text: block.thinking }] : [];
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'other', signature: '', toolIndex: -1 });
        return [{ type: 'redacted-reasoning', data: block.data }];
      case 'tool_use': {
        this.blocks.set(index, { kind: 'tool', signature: '', toolIndex: this.tools.length });
        this.tools.push({ id: block.id, name: block.name, args: '' });
        return [];
      }
      default:
        // Server tools and other block kinds this agent does not use.
        this.blocks.set(index, { kind: 'other', signature: '', toolIndex: -1 });
        return [];
    }
  }

  private delta(
    index: number,
    delta: Extract<RawMessageStreamEvent, { type: 'content_block_delta' }>['delta'],
  ): StreamChunk[] {
    const block = this.blocks.get(index);
    switch (delta.type) {
      case 'text_delta':
        return delta.text ? [{ type: 'text-delta', text: delta.text }] : [];
      case 'thinking_delta':
        return delta.thinking ? [{ type: 'reasoning-delta', text: delta.thinking }] : [];
      case 'signature_delta':
        if (block) block.signature += delta.signature;
        return [];
      case 'input_json_delta': {
        const call = block?.kind === 'tool' ? this.tools[block.toolIndex] : undefined;
        if (!call || !block || delta.partial_json.length === 0) return [];
        call.args += delta.partial_json;
        return [
          {
            type: 'tool-call-delta',
            index: block.toolIndex,
            toolCallId: call.id,
            toolName: call.name,
            argsDelta: delta.partial_json,
          },
        ];
      }
      default:
        return [];
    }
  }

  /** After message_stop: the tool calls, the usage when reported, and the finish. */
  finish(): StreamChunk[] {
    const out: StreamChunk[] = this.tools.map((call) => parseToolCall(call));
    if (this.usage) out.push({ type: 'usage', usage: mapAnthropicUsage(this.usage) });
    out.push({ type: 'finish', reason: mapStopReason(this.stopReason, this.tools.length > 0) });
    return out;
  }
}
