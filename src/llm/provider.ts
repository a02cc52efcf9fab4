import { createAnthropicModel } from './anthropic.js';
import { createOpenAiModel } from './openai.js';
import { untilAborted } from './until-aborted.js';
import type {
  LanguageModel,
  LanguageModelFactory,
  LanguageModelOptions,
  ProviderKind,
  ProviderSettings,
} from './types.js';

/** One factory per provider kind; a new kind is one file plus one line here. */
const FACTORIES: Record<ProviderKind, LanguageModelFactory> = {
  OPENAI: createOpenAiModel,
  OPENAI_COMPATIBLE: createOpenAiModel,
  ANTHROPIC: createAnthropicModel,
};

/**
 * Builds the model for a provider row and model name. Cheap and side-effect free (no request is
 * made), so the daemon can build one per turn. A configuration that cannot work (e.g. an
 * OpenAI-compatible provider without a base URL) yields a model whose calls fail with a
 * non-transient ProviderError, rather than throwing here.
 */
export function createLanguageModel(
  settings: ProviderSettings,
  options: LanguageModelOptions = {},
): LanguageModel {
  const model = FACTORIES[settings.kind](settings, options);
  // Every provider's stream ends at once when its signal aborts (see until-aborted.ts).
  return {
    ...model,
    stream: (req) => (req.signal ? untilAborted(model.stream(req), req.signal) : model.stream(req)),
  };
}
