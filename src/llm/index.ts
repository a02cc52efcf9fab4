export type {
  CompleteRequest,
  FinishReason,
  GenerationOptions,
  LanguageModel,
  LanguageModelFactory,
  LanguageModelOptions,
  LlmAttachment,
  LlmMessage,
  ProviderKind,
  ProviderSettings,
  ReasoningBlock,
  ReasoningEffort,
  StreamChunk,
  StreamRequest,
  TokenUsage,
  ToolSpec,
} from './types.js';
export {
  isAbortError,
  isTransientStatus,
  parseRetryAfter,
  ProviderError,
  redactSecrets,
  toProviderError,
  type ProviderErrorOptions,
  type ToProviderErrorOptions,
} from './errors.js';
export { createLanguageModel } from './provider.js';
export { DEFAULT_TIMEOUT_MS } from './transport.js';
export {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  retryDelayMs,
  shouldRetry,
  type RetryPolicy,
} from './retry.js';
export { addUsage, computeCostMicros, totalTokens, ZERO_USAGE, type ModelPrices } from './cost.js';
