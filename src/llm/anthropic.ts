import { ProviderError } from './errors.js';
import { failingModel } from './failing-model.js';
import type { LanguageModelFactory } from './types.js';

/**
 * Seam for the native Anthropic Messages API. Implementing it means replacing this file only:
 * provider.ts already routes ANTHROPIC here, and errors.ts, retry.ts and cost.ts are
 * provider-neutral (map Anthropic's cache_read/cache_creation input tokens to cacheReadTokens and
 * cacheWriteTokens, leaving inputTokens as the uncached rest).
 */
export const createAnthropicModel: LanguageModelFactory = (settings) =>
  failingModel(settings.model, new ProviderError('Anthropic provider is not implemented yet'));
