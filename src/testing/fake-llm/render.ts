import { randomBytes } from 'node:crypto';
import { HttpStatus, isServerErrorStatus } from '../../http-status.js';
import type { ChatRequestBody, ScriptedResponse, ScriptedToolCall } from './types.js';

/** Rough rule of thumb for English text, only used when a step scripts no usage. */
const CHARS_PER_TOKEN = 4;
const DEFAULT_TEXT_CHUNKS = 3;
const DEFAULT_ARGS_CHUNKS = 3;
const ID_BYTES = 12;
const MS_PER_SECOND = 1000;

/** Reads a message's content whether it is a string or an array of `{ type: 'text' }` parts. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      if (typeof part === 'object' && part !== null && 'text' in part) {
        return typeof part.text === 'string' ? part.text : '';
      }
      return '';
    })
    .join('');
}

export function lastUserText(body: ChatRequestBody): string {
  const last = body.messages.findLast((m) => m.role === 'user');
  return last ? messageText(last.content) : '';
}

export function firstUserText(body: ChatRequestBody): string {
  const first = body.messages.find((m) => m.role === 'user');
  return first ? messageText(first.content) : '';
}

/** Splits into at most `parts` pieces of roughly equal length, never producing empty pieces. */
export function splitEven(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const count = Math.max(1, Math.min(Math.floor(parts), text.length));
  const size = Math.ceil(text.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** Splits on word boundaries so streamed text looks like a model's output. */
export function splitText(text: string, parts = DEFAULT_TEXT_CHUNKS): string[] {
  const words = text.match(/\s*\S+\s*|\s+/g) ?? [];
  if (words.length <= 1) return words;
  const count = Math.min(parts, words.length);
  const perChunk = Math.ceil(words.length / count);
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += perChunk) {
    pieces.push(words.slice(i, i + perChunk).join(''));
  }
  return pieces;
}

export function newId(prefix: string): string {
  return `${prefix}${randomBytes(ID_BYTES).toString('hex')}`;
}

export function textPieces(step: ScriptedResponse): string[] {
  if (step.text === undefined) return [];
  return typeof step.text === 'string' ? splitText(step.text) : step.text;
}

export function argumentsText(call: ScriptedToolCall): string {
  return typeof call.args === 'string' ? call.args : JSON.stringify(call.args ?? {});
}

function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** A step's token counts, provider-neutral: prompt includes both cache kinds. */
export interface StepTokens {
  prompt: number;
  completion: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export function stepTokens(step: ScriptedResponse, body: ChatRequestBody): StepTokens {
  const reasoningChars = (step.reasoning ?? []).join('').length;
  const outputChars =
    textPieces(step).join('').length +
    reasoningChars +
    (step.toolCalls ?? []).reduce((n, c) => n + c.name.length + argumentsText(c).length, 0);
  return {
    prompt: step.usage?.promptTokens ?? estimateTokens(JSON.stringify(body.messages).length),
    completion: step.usage?.completionTokens ?? estimateTokens(outputChars),
    reasoning: step.usage?.reasoningTokens ?? estimateTokens(reasoningChars),
    cacheRead: step.usage?.cachedTokens ?? 0,
    cacheWrite: step.usage?.cacheWriteTokens ?? 0,
  };
}

/** OpenAI's shape; cache writes are reported the way OpenRouter does (cache_write_tokens). */
export function renderUsage(step: ScriptedResponse, body: ChatRequestBody): OpenAiUsage {
  const tokens = stepTokens(step, body);
  return {
    prompt_tokens: tokens.prompt,
    completion_tokens: tokens.completion,
    total_tokens: tokens.prompt + tokens.completion,
    prompt_tokens_details: {
      cached_tokens: tokens.cacheRead,
      cache_write_tokens: tokens.cacheWrite,
    },
    completion_tokens_details: { reasoning_tokens: tokens.reasoning },
  };
}

function finishReason(step: ScriptedResponse): string {
  // pause_turn is Anthropic's only; a chat-completions model simply stops.
  if (step.finishReason === 'pause_turn') return 'stop';
  if (step.finishReason) return step.finishReason;
  return step.toolCalls && step.toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

export interface RenderContext {
  id: string;
  created: number;
  model: string;
}

export function renderContext(body: ChatRequestBody): RenderContext {
  return {
    id: newId('chatcmpl-fake-'),
    created: Math.floor(Date.now() / MS_PER_SECOND),
    model: body.model ?? 'fake-model',
  };
}

type Delta = Record<string, unknown>;

function chunk(ctx: RenderContext, delta: Delta, finish: string | null, includeUsage: boolean) {
  return {
    id: ctx.id,
    object: 'chat.completion.chunk',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    // OpenAI sends an explicit null on every chunk but the last when usage was requested.
    ...(includeUsage ? { usage: null } : {}),
  };
}

export interface StreamChunks {
  /** Role, reasoning, text and tool-call deltas: what a hanging response still sends. */
  content: object[];
  /** Finish chunk, then the usage chunk when the request asked for it. */
  tail: object[];
}

export function renderStreamChunks(
  step: ScriptedResponse,
  body: ChatRequestBody,
  ctx: RenderContext,
): StreamChunks {
  const includeUsage = body.stream_options?.include_usage === true;
  const content: object[] = [
    chunk(ctx, { role: 'assistant', content: '', refusal: null }, null, includeUsage),
  ];
  for (const piece of step.reasoning ?? []) {
    content.push(chunk(ctx, { reasoning_content: piece }, null, includeUsage));
  }
  for (const piece of textPieces(step)) {
    content.push(chunk(ctx, { content: piece }, null, includeUsage));
  }
  (step.toolCalls ?? []).forEach((call, index) => {
    const head = {
      index,
      id: call.id ?? newId('call_'),
      type: 'function',
      function: { name: call.name, arguments: '' },
    };
    content.push(chunk(ctx, { tool_calls: [head] }, null, includeUsage));
    for (const part of splitEven(argumentsText(call), call.argsChunks ?? DEFAULT_ARGS_CHUNKS)) {
      const delta = { tool_calls: [{ index, function: { arguments: part } }] };
      content.push(chunk(ctx, delta, null, includeUsage));
    }
  });

  if (step.streamError) {
    // What OpenAI-compatible servers send when a stream fails after it started.
    return { content, tail: [{ error: { ...step.streamError, code: null, param: null } }] };
  }
  const tail: object[] = [chunk(ctx, {}, finishReason(step), includeUsage)];
  if (includeUsage) {
    tail.push({
      id: ctx.id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
      choices: [],
      usage: renderUsage(step, body),
    });
  }
  return { content, tail };
}

export function renderCompletion(
  step: ScriptedResponse,
  body: ChatRequestBody,
  ctx: RenderContext,
) {
  const text = textPieces(step).join('');
  const toolCalls = (step.toolCalls ?? []).map((call) => ({
    id: call.id ?? newId('call_'),
    type: 'function',
    function: { name: call.name, arguments: argumentsText(call) },
  }));
  const reasoning = (step.reasoning ?? []).join('');
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          refusal: null,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(step),
      },
    ],
    usage: renderUsage(step, body),
  };
}

/** Error `type`/`code` pairs as OpenAI uses them, so clients see familiar bodies. */
function errorKind(status: number): { type: string; code: string | null } {
  if (status === HttpStatus.TOO_MANY_REQUESTS)
    return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status === HttpStatus.UNAUTHORIZED)
    return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === HttpStatus.FORBIDDEN) return { type: 'invalid_request_error', code: 'forbidden' };
  if (status === HttpStatus.NOT_FOUND) return { type: 'invalid_request_error', code: 'not_found' };
  if (isServerErrorStatus(status)) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

export function renderError(status: number, message: string): object {
  return { error: { message, ...errorKind(status), param: null } };
}
