/**
 * Token counts of one model call. Every prompt token is in exactly one of inputTokens,
 * cacheReadTokens and cacheWriteTokens, so each is billed once (see cost.ts). outputTokens
 * includes reasoningTokens: reasoning is billed as output, and reasoningTokens is only a breakdown.
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * One block of a model's reasoning as the provider must see it again on later turns. Anthropic
 * rejects a changed or unsigned thinking block, so the signature (or the encrypted data of a
 * redacted block) travels with the text; providers that do not sign reasoning leave both unset.
 */
export interface ReasoningBlock {
  text: string;
  signature?: string;
  /** A redacted_thinking block: no readable text, only this opaque payload. */
  redactedData?: string;
}

/**
 * A file given to the model with a user message, base64-encoded: an image (png, jpeg, gif, webp)
 * or a PDF. Each provider renders it in its own format (see its mapping); text files never get
 * here, the prompt builder inlines them.
 */
export interface LlmAttachment {
  name: string;
  mediaType: string;
  base64: string;
}

export type LlmMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string; attachments?: LlmAttachment[] }
  | {
      role: 'assistant';
      content: string;
      toolCalls?: { id: string; name: string; argumentsJson: string }[];
      /** Sent back only to providers that accept it (Anthropic, signed blocks only). */
      reasoning?: ReasoningBlock[];
    }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/**
 * Why a step ended. 'content_filter' includes Anthropic's 'refusal'; 'pause' is Anthropic's
 * 'pause_turn' (a long turn the provider paused: send the conversation back to let it continue).
 */
export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'pause' | 'other';

/**
 * What a model stream yields, in this order: deltas as they arrive (text, reasoning and tool-call
 * argument deltas interleaved as the provider sends them); then, once the provider has finished,
 * one 'tool-call' per tool call in index order, at most one 'usage' (only when the provider
 * reported it) and exactly one 'finish', always last.
 */
export type StreamChunk =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  /** Closes the current reasoning block with the provider's signature (Anthropic). */
  | { type: 'reasoning-signature'; signature: string }
  /** A whole reasoning block the provider encrypted (Anthropic's redacted_thinking). */
  | { type: 'redacted-reasoning'; data: string }
  | {
      type: 'tool-call-delta';
      index: number;
      toolCallId: string;
      toolName: string;
      argsDelta: string;
    }
  | {
      type: 'tool-call';
      toolCallId: string;
      toolName: string;
      argsJson: string;
      /** Parsed argsJson; undefined when it is not valid JSON, with parseError saying why. */
      args: unknown;
      parseError?: string;
    }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'finish'; reason: FinishReason };

export interface StreamRequest {
  messages: LlmMessage[];
  tools?: ToolSpec[];
  signal?: AbortSignal;
  maxOutputTokens?: number;
}

export interface CompleteRequest {
  messages: LlmMessage[];
  signal?: AbortSignal;
  maxOutputTokens?: number;
}

/**
 * A configured model. Failures are ProviderErrors (see errors.ts), except that a call whose
 * `signal` aborts rejects with the signal's reason (an AbortError unless the caller chose another).
 */
export interface LanguageModel {
  readonly model: string;
  stream(req: StreamRequest): AsyncIterable<StreamChunk>;
  complete(req: CompleteRequest): Promise<{ text: string; usage: TokenUsage }>;
}

export type ProviderKind = 'OPENAI' | 'OPENAI_COMPATIBLE' | 'ANTHROPIC';

export type ReasoningEffort = 'LOW' | 'MEDIUM' | 'HIGH';

/** Per-model-config generation options; each unset one leaves the provider's default. */
export interface GenerationOptions {
  /** Default output cap of a call that sets none itself (Anthropic requires one: 8192). */
  maxOutputTokens?: number | null;
  /** Anthropic extended thinking budget (at least 1024); unset with no effort: no thinking. */
  thinkingBudgetTokens?: number | null;
  /** OpenAI reasoning models' reasoning_effort; on Anthropic a thinking budget (see anthropic.ts). */
  reasoningEffort?: ReasoningEffort | null;
  /** Ignored on Anthropic while thinking is on (the API only allows its default there). */
  temperature?: number | null;
}

export interface ProviderSettings {
  kind: ProviderKind;
  baseUrl: string | null;
  apiKey: string | null;
  model: string;
  options?: GenerationOptions;
}

export interface LanguageModelOptions {
  /** Replaces global fetch, e.g. to add a proxy. Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /**
   * Longest wait for the response headers, and then for each next chunk of a stream. When it
   * passes, the call fails with a transient ProviderError. Default: 2 minutes
   * (LLM_STREAM_IDLE_TIMEOUT_MS).
   */
  timeoutMs?: number;
  /**
   * Allow calls to link-local / cloud metadata addresses (ALLOW_PRIVATE_PROVIDER_URLS). Default
   * false: every request checks where its host resolves first (network-policy.ts).
   */
  allowPrivateNetwork?: boolean;
}

/** Builds the model of one provider kind; each kind lives in its own file. */
export type LanguageModelFactory = (
  settings: ProviderSettings,
  options: LanguageModelOptions,
) => LanguageModel;
