import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { ZERO_USAGE } from './cost.js';
import { ProviderError } from './errors.js';
import { failingModel } from './failing-model.js';
import { storableText } from '../text/storable.js';
import { providerTransport } from './transport.js';
import {
  mapFinishReason,
  mapUsage,
  reasoningDelta,
  toOpenAiMessages,
  toOpenAiTools,
  ToolCallAssembler,
} from './openai-mapping.js';
import type {
  CompleteRequest,
  GenerationOptions,
  LanguageModel,
  LanguageModelFactory,
  ProviderKind,
  StreamChunk,
  StreamRequest,
  TokenUsage,
} from './types.js';

/**
 * OpenAI's own API wants max_completion_tokens (reasoning models refuse max_tokens); many
 * compatible servers only know max_tokens.
 */
function maxTokensParam(kind: ProviderKind, maxOutputTokens: number | null | undefined) {
  if (maxOutputTokens == null) return {};
  return kind === 'OPENAI'
    ? { max_completion_tokens: maxOutputTokens }
    : { max_tokens: maxOutputTokens };
}

/**
 * The model config's options: reasoning_effort (OpenAI's reasoning models, and the compatible
 * servers that copy it) and temperature, each only when configured.
 */
function generationParams(options: GenerationOptions) {
  return {
    ...(options.reasoningEffort
      ? { reasoning_effort: options.reasoningEffort.toLowerCase() as 'low' | 'medium' | 'high' }
      : {}),
    ...(options.temperature != null ? { temperature: options.temperature } : {}),
  };
}

export const createOpenAiModel: LanguageModelFactory = (settings, options): LanguageModel => {
  if (settings.kind === 'OPENAI_COMPATIBLE' && !settings.baseUrl) {
    const error = new ProviderError('This OpenAI-compatible provider has no base URL configured');
    return failingModel(settings.model, error);
  }
  const transport = providerTransport(settings.apiKey, options);
  const generation = settings.options ?? {};
  const client = new OpenAI({ ...transport.clientOptions, baseURL: settings.baseUrl ?? undefined });

  async function* stream(req: StreamRequest): AsyncGenerator<StreamChunk> {
    const tools = req.tools ?? [];
    const assembler = new ToolCallAssembler();
    let finishedWith: string | undefined;
    let usage: TokenUsage | undefined;
    const toChunks = (chunk: ChatCompletionChunk): StreamChunk[] => {
      if (chunk.usage) usage = mapUsage(chunk.usage);
      const out: StreamChunk[] = [];
      for (const choice of chunk.choices ?? []) {
        if (choice.index !== 0) continue;
        const delta = choice.delta ?? {};
        const reasoning = reasoningDelta(delta);
        if (reasoning) out.push({ type: 'reasoning-delta', text: reasoning });
        if (delta.content) out.push({ type: 'text-delta', text: delta.content });
        for (const call of delta.tool_calls ?? []) {
          const argsDelta = assembler.accept(call);
          if (argsDelta) out.push(argsDelta);
        }
        if (choice.finish_reason) finishedWith = choice.finish_reason;
      }
      return out;
    };
    const finishReason = yield* transport.stream(
      req.signal,
      (signal) =>
        client.chat.completions.create(
          {
            model: settings.model,
            messages: toOpenAiMessages(req.messages),
            stream: true,
            stream_options: { include_usage: true },
            ...(tools.length > 0 ? { tools: toOpenAiTools(tools) } : {}),
            ...maxTokensParam(settings.kind, req.maxOutputTokens ?? generation.maxOutputTokens),
            ...generationParams(generation),
          },
          { signal },
        ),
      toChunks,
      // A stream cut without a finish reason is not a complete answer.
      () => finishedWith,
    );

    yield* assembler.finish();
    if (usage) yield { type: 'usage', usage };
    yield { type: 'finish', reason: mapFinishReason(finishReason, assembler.size > 0) };
  }

  async function complete(req: CompleteRequest): Promise<{ text: string; usage: TokenUsage }> {
    const completion = await transport.call(req.signal, (signal) =>
      client.chat.completions.create(
        {
          model: settings.model,
          messages: toOpenAiMessages(req.messages),
          stream: false,
          ...maxTokensParam(settings.kind, req.maxOutputTokens),
        },
        { signal },
      ),
    );
    // Whole texts (titles, summaries) are stored as they are: make them storable here. Stream
    // deltas are repaired when their parts are stored, since a chunk may split a surrogate pair.
    const text = storableText(completion.choices?.[0]?.message?.content ?? '');
    return { text, usage: completion.usage ? mapUsage(completion.usage) : { ...ZERO_USAGE } };
  }

  return { model: settings.model, stream, complete };
};
