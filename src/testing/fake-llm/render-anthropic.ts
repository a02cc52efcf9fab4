import {
  argumentsText,
  newId,
  splitEven,
  stepTokens,
  textPieces,
  type RenderContext,
} from './render.js';
import { HttpStatus, isErrorStatus, isServerErrorStatus } from '../../http-status.js';
import type { ChatRequestBody, ScriptedResponse } from './types.js';

/** Renders a scripted step the way Anthropic's Messages API answers (/v1/messages). */

const DEFAULT_ARGS_CHUNKS = 3;
const SIGNATURE_BYTES_PREFIX = 'fake-signature-';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Anthropic's input_tokens excludes both cache kinds; the script's promptTokens includes them. */
export function renderAnthropicUsage(
  step: ScriptedResponse,
  body: ChatRequestBody,
): AnthropicUsage {
  const tokens = stepTokens(step, body);
  return {
    input_tokens: Math.max(0, tokens.prompt - tokens.cacheRead - tokens.cacheWrite),
    output_tokens: tokens.completion,
    cache_creation_input_tokens: tokens.cacheWrite,
    cache_read_input_tokens: tokens.cacheRead,
  };
}

export function anthropicStopReason(step: ScriptedResponse): string {
  switch (step.finishReason) {
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'refusal';
    case 'tool_calls':
      return 'tool_use';
    case 'pause_turn':
      return 'pause_turn';
    case 'stop':
      return 'end_turn';
    case undefined:
      return step.toolCalls && step.toolCalls.length > 0 ? 'tool_use' : 'end_turn';
  }
}

/** Signature of the step's thinking block: scripted, or one derived from its text. */
export function thinkingSignature(step: ScriptedResponse): string {
  return (
    step.reasoningSignature ??
    `${SIGNATURE_BYTES_PREFIX}${Buffer.from((step.reasoning ?? []).join('')).toString('base64')}`
  );
}

function frame(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;
}

export interface AnthropicFrames {
  /** message_start, ping and every content block: what a hanging response still sends. */
  content: string[];
  /** message_delta (stop reason, usage) and message_stop; or an error event. */
  tail: string[];
}

/** The SSE frames of a streamed answer, each one whole `event:`/`data:` pair. */
export function renderAnthropicFrames(
  step: ScriptedResponse,
  body: ChatRequestBody,
  ctx: RenderContext,
): AnthropicFrames {
  const usage = renderAnthropicUsage(step, body);
  const content: string[] = [
    frame('message_start', {
      message: {
        id: ctx.id,
        type: 'message',
        role: 'assistant',
        model: ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // As the API does: the prompt side is known up front, output grows until message_delta.
        usage: { ...usage, output_tokens: 1 },
      },
    }),
    frame('ping', {}),
  ];
  let index = 0;
  const reasoning = step.reasoning ?? [];
  if (reasoning.length > 0) {
    content.push(
      frame('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      }),
    );
    for (const piece of reasoning) {
      content.push(
        frame('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }),
      );
    }
    content.push(
      frame('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: thinkingSignature(step) },
      }),
      frame('content_block_stop', { index }),
    );
    index += 1;
  }
  const text = textPieces(step);
  if (text.length > 0) {
    content.push(
      frame('content_block_start', { index, content_block: { type: 'text', text: '' } }),
    );
    for (const piece of text) {
      content.push(
        frame('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }),
      );
    }
    content.push(frame('content_block_stop', { index }));
    index += 1;
  }
  for (const call of step.toolCalls ?? []) {
    content.push(
      frame('content_block_start', {
        index,
        content_block: {
          type: 'tool_use',
          id: call.id ?? newId('toolu_'),
          name: call.name,
          input: {},
        },
      }),
    );
    for (const part of splitEven(argumentsText(call), call.argsChunks ?? DEFAULT_ARGS_CHUNKS)) {
      content.push(
        frame('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        }),
      );
    }
    content.push(frame('content_block_stop', { index }));
    index += 1;
  }

  if (step.streamError) {
    return {
      content,
      tail: [frame('error', { error: { ...step.streamError } })],
    };
  }
  const tail = [
    frame('message_delta', {
      delta: { stop_reason: anthropicStopReason(step), stop_sequence: null },
      usage,
    }),
    frame('message_stop', {}),
  ];
  return { content, tail };
}

function parsedInput(call: { args: unknown }): unknown {
  if (typeof call.args !== 'string') return call.args ?? {};
  try {
    return JSON.parse(call.args) as unknown;
  } catch {
    // A non-streamed answer cannot carry invalid JSON input; an empty object is the closest.
    return {};
  }
}

/** A whole (non-streamed) Message. */
export function renderAnthropicMessage(
  step: ScriptedResponse,
  body: ChatRequestBody,
  ctx: RenderContext,
) {
  const blocks: object[] = [];
  const reasoning = (step.reasoning ?? []).join('');
  if (reasoning) {
    blocks.push({ type: 'thinking', thinking: reasoning, signature: thinkingSignature(step) });
  }
  const text = textPieces(step).join('');
  if (text) blocks.push({ type: 'text', text });
  for (const call of step.toolCalls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id ?? newId('toolu_'),
      name: call.name,
      input: parsedInput(call),
    });
  }
  return {
    id: ctx.id,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content: blocks,
    stop_reason: anthropicStopReason(step),
    stop_sequence: null,
    usage: renderAnthropicUsage(step, body),
  };
}

/** Anthropic's error `type` for an HTTP status. */
function anthropicErrorType(status: number): string {
  switch (status) {
    case HttpStatus.BAD_REQUEST:
      return 'invalid_request_error';
    case HttpStatus.UNAUTHORIZED:
      return 'authentication_error';
    case HttpStatus.FORBIDDEN:
      return 'permission_error';
    case HttpStatus.NOT_FOUND:
      return 'not_found_error';
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return 'request_too_large';
    case HttpStatus.TOO_MANY_REQUESTS:
      return 'rate_limit_error';
    case HttpStatus.OVERLOADED:
      return 'overloaded_error';
    default:
      return isErrorStatus(status) && !isServerErrorStatus(status)
        ? 'invalid_request_error'
        : 'api_error';
  }
}

export function renderAnthropicError(status: number, message: string): object {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}
