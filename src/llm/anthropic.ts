import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { storableText } from '../text/storable.js';
import { ZERO_USAGE } from './cost.js';
import {
  AnthropicStreamAssembler,
  mapAnthropicUsage,
  toAnthropicPrompt,
  toAnthropicTools,
} from './anthropic-mapping.js';
import { providerTransport } from './transport.js';
import type {
  CompleteRequest,
  GenerationOptions,
  LanguageModel,
  LanguageModelFactory,
  LlmMessage,
  ReasoningEffort,
  StreamChunk,
  StreamRequest,
  TokenUsage,
} from './types.js';

/** The API requires max_tokens; this is the cap when neither the call nor the config sets one. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 8192;
/** Room left for the answer itself when a thinking budget would eat the whole max_tokens. */
const ANSWER_HEADROOM_TOKENS = 4096;
/** The API's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;
/** A config that names an effort but no budget gets this thinking budget. */
const EFFORT_BUDGET: Record<ReasoningEffort, number> = {
  LOW: 2048,
  MEDIUM: 8192,
  HIGH: 24_576,
};

/**
 * People paste https://api.anthropic.com/v1 as often as the bare host; the SDK appends /v1/…
 * itself, so a trailing /v1 is dropped rather than doubled.
 */
export function anthropicBaseUrl(baseUrl: string | null): string | undefined {
  if (!baseUrl) return undefined;
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function thinkingBudget(options: GenerationOptions): number | undefined {
  const budget =
    options.thinkingBudgetTokens ??
    (options.reasoningEffort ? EFFORT_BUDGET[options.reasoningEffort] : undefined);
  return budget === undefined ? undefined : Math.max(MIN_THINKING_BUDGET, budget);
}

/**
 * max_tokens, thinking and temperature for one call. Thinking counts against max_tokens and must
 * stay below it, and the API refuses a temperature next to it, so those two bend to thinking.
 */
export function generationParams(
  options: GenerationOptions,
  maxOutputTokens: number | undefined,
  withThinking: boolean,
): {
  max_tokens: number;
  thinking?: { type: 'enabled'; budget_tokens: number };
  temperature?: number;
} {
  const maxTokens = maxOutputTokens ?? options.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  const budget = withThinking ? thinkingBudget(options) : undefined;
  if (budget === undefined) {
    return {
      max_tokens: maxTokens,
      ...(options.temperature != null ? { temperature: options.temperature } : {}),
    };
  }
  return {
    max_tokens: Math.max(maxTokens, budget + ANSWER_HEADROOM_TOKENS),
    thinking: { type: 'enabled', budget_tokens: budget },
  };
}

function lastAssistantWithoutThinking(messages: readonly LlmMessage[]): boolean {
  const last = messages.findLast((m) => m.role === 'assistant');
  return (
    last?.role === 'assistant' &&
    (last.toolCalls?.length ?? 0) > 0 &&
    !(last.reasoning ?? []).some((b) => b.signature || b.redactedData)
  );
}

export const createAnthropicModel: LanguageModelFactory = (settings, options): LanguageModel => {
  const transport = providerTransport(settings.apiKey, options);
  const generation = settings.options ?? {};
  const client = new Anthropic({
    ...transport.clientOptions,
    baseURL: anthropicBaseUrl(settings.baseUrl),
  });

  async function* stream(req: StreamRequest): AsyncGenerator<StreamChunk> {
    const assembler = new AnthropicStreamAssembler();
    const tools = req.tools ?? [];
    const prompt = toAnthropicPrompt(req.messages);
    // A tool-use continuation whose assistant turn has no thinking block cannot turn thinking
    // on (the API refuses it), e.g. when the config gained a budget mid-turn.
    const withThinking = !lastAssistantWithoutThinking(req.messages);
    const stopped = yield* transport.stream(
      req.signal,
      async (signal) =>
        (await client.messages.create(
          {
            model: settings.model,
            ...(prompt.system.length > 0 ? { system: prompt.system } : {}),
            messages: prompt.messages,
            ...(tools.length > 0 ? { tools: toAnthropicTools(tools) } : {}),
            ...generationParams(generation, req.maxOutputTokens, withThinking),
            stream: true,
          },
          { signal },
        )) as AsyncIterable<RawMessageStreamEvent>,
      (event) => assembler.accept(event),
      // A stream cut before message_stop is not a complete answer, whatever arrived.
      () => (assembler.stopped ? assembler : undefined),
    );
    yield* stopped.finish();
  }

  async function complete(req: CompleteRequest): Promise<{ text: string; usage: TokenUsage }> {
    const prompt = toAnthropicPrompt(req.messages);
    const message = await transport.call(req.signal, (signal) =>
      client.messages.create(
        {
          model: settings.model,
          ...(prompt.system.length > 0 ? { system: prompt.system } : {}),
          messages: prompt.messages,
          // Side tasks (titles, summaries) want the answer, not deliberation.
          ...generationParams(generation, req.maxOutputTokens, false),
        },
        { signal },
      ),
    );
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    return {
      text: storableText(text),
      usage: message.usage ? mapAnthropicUsage(message.usage) : { ...ZERO_USAGE },
    };
  }

  return { model: settings.model, stream, complete };
};
