import { randomUUID } from 'node:crypto';
import type {
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type {
  FinishReason,
  LlmAttachment,
  LlmMessage,
  StreamChunk,
  TokenUsage,
  ToolSpec,
} from './types.js';

export function toOpenAiMessages(messages: readonly LlmMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: message.role, content: message.content };
      case 'user':
        return message.attachments?.length
          ? { role: 'user', content: openAiUserContent(message.content, message.attachments) }
          : { role: 'user', content: message.content };
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
      case 'assistant': {
        const toolCalls = message.toolCalls ?? [];
        // OpenAI rejects an empty tool_calls array, and several compatible servers reject an
        // empty content string next to tool calls; null is what OpenAI itself returns there.
        if (toolCalls.length === 0) return { role: 'assistant', content: message.content };
        return {
          role: 'assistant',
          content: message.content.length > 0 ? message.content : null,
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.argumentsJson },
          })),
        };
      }
    }
  });
}

/**
 * Images as data-URL image inputs. A PDF cannot be read through chat completions everywhere, and
 * no PDF text extractor ships with this project, so the model is told a PDF is there instead.
 */
function openAiUserContent(
  text: string,
  attachments: readonly LlmAttachment[],
): ChatCompletionContentPart[] {
  const parts: ChatCompletionContentPart[] = [];
  const notes: string[] = [];
  for (const file of attachments) {
    if (file.mediaType.startsWith('image/')) {
      parts.push({
        type: 'image_url',
        image_url: { url: `data:${file.mediaType};base64,${file.base64}` },
      });
    } else {
      notes.push(`[Attached ${file.mediaType} file "${file.name}": this model cannot read it]`);
    }
  }
  const fullText = [text, ...notes].filter((t) => t.length > 0).join('\n\n');
  return fullText ? [{ type: 'text', text: fullText }, ...parts] : parts;
}

export function toOpenAiTools(tools: readonly ToolSpec[]): ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

function field(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  return (value as Record<string, unknown>)[key];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * OpenAI's prompt_tokens includes cached tokens, so they are subtracted from inputTokens: each
 * token lands in exactly one bucket and is billed once. Read leniently because compatible
 * servers differ: DeepSeek reports prompt_cache_hit_tokens, OpenRouter cache_write_tokens, and
 * some send nulls.
 */
export function mapUsage(usage: unknown): TokenUsage {
  const prompt = count(field(usage, 'prompt_tokens'));
  const promptDetails = field(usage, 'prompt_tokens_details');
  const cacheRead =
    count(field(promptDetails, 'cached_tokens')) || count(field(usage, 'prompt_cache_hit_tokens'));
  const cacheWrite = count(field(promptDetails, 'cache_write_tokens'));
  return {
    inputTokens: Math.max(0, prompt - cacheRead - cacheWrite),
    outputTokens: count(field(usage, 'completion_tokens')),
    reasoningTokens: count(field(field(usage, 'completion_tokens_details'), 'reasoning_tokens')),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

/**
 * Some compatible servers finish a tool-calling step with 'stop'; the step still has tool calls
 * to run, so it is reported as 'tool_calls'.
 */
export function mapFinishReason(reason: string, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'stop':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'length':
    case 'content_filter':
      return reason;
    default:
      return 'other';
  }
}

/** DeepSeek and vLLM send `reasoning_content`, OpenRouter and Ollama `reasoning`; never both. */
export function reasoningDelta(delta: unknown): string {
  const content = field(delta, 'reasoning_content');
  if (typeof content === 'string' && content.length > 0) return content;
  const reasoning = field(delta, 'reasoning');
  return typeof reasoning === 'string' ? reasoning : '';
}

type ToolCallDelta = ChatCompletionChunk.Choice.Delta.ToolCall;

interface PartialToolCall {
  id: string;
  name: string;
  args: string;
}

type FinalToolCall = Extract<StreamChunk, { type: 'tool-call' }>;
type ToolCallArgsDelta = Extract<StreamChunk, { type: 'tool-call-delta' }>;

export function parseToolCall(call: { id: string; name: string; args: string }): FinalToolCall {
  // No-argument calls often arrive with empty arguments; '{}' is what they mean.
  const argsJson = call.args.trim() === '' ? '{}' : call.args;
  const base = { type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, argsJson };
  try {
    return { ...base, args: JSON.parse(argsJson) as unknown };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ...base,
      args: undefined,
      parseError: `Tool call arguments are not valid JSON: ${reason}`,
    };
  }
}

/** Joins tool-call deltas by their index into whole calls. */
export class ToolCallAssembler {
  private readonly calls = new Map<number, PartialToolCall>();
  private lastIndex = -1;

  get size(): number {
    return this.calls.size;
  }

  /** Returns the argument delta to publish, if this delta carried any. */
  accept(delta: ToolCallDelta): ToolCallArgsDelta | undefined {
    const index = this.indexOf(delta);
    this.lastIndex = index;
    let call = this.calls.get(index);
    if (!call) {
      // A provider that omits the id still needs one, so the tool result can refer to the call.
      call = { id: delta.id || `call_${randomUUID()}`, name: '', args: '' };
      this.calls.set(index, call);
    }
    if (!call.name && delta.function?.name) call.name = delta.function.name;
    const argsDelta = delta.function?.arguments ?? '';
    if (argsDelta.length === 0) return undefined;
    call.args += argsDelta;
    return { type: 'tool-call-delta', index, toolCallId: call.id, toolName: call.name, argsDelta };
  }

  finish(): FinalToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => parseToolCall(call));
  }

  /**
   * Some servers leave out `index`: a delta with a new id then starts a call, one without an id
   * continues the last one.
   */
  private indexOf(delta: ToolCallDelta): number {
    if (typeof delta.index === 'number') return delta.index;
    if (!delta.id && this.lastIndex >= 0) return this.lastIndex;
    for (const [index, call] of this.calls) if (call.id === delta.id) return index;
    return Math.max(-1, ...this.calls.keys()) + 1;
  }
}
