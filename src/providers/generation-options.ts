import { badInput } from '../errors.js';
import type { ReasoningEffort } from '../llm/index.js';

/**
 * A model config's generation options (issue #10): validated here, used by src/llm. On create and
 * update alike, null clears an option (back to the provider's default) and absent leaves it.
 */
export interface GenerationOptionsInput {
  maxOutputTokens?: number | null;
  thinkingBudgetTokens?: number | null;
  reasoningEffort?: ReasoningEffort | null;
  temperature?: number | null;
  /** Whether the model reads images; null or absent leaves it (default false). */
  supportsImages?: boolean | null;
}

/** No current model writes more in one call; a bigger number is a typo. */
const MAX_OUTPUT_TOKENS = 1_000_000;
/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;
const MAX_TEMPERATURE = 2;

function tokens(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_OUTPUT_TOKENS) {
    throw badInput(
      field,
      `${field} must be an integer from ${min} to ${MAX_OUTPUT_TOKENS}, or null`,
    );
  }
  return value;
}

type ValidGenerationOptions = Omit<GenerationOptionsInput, 'supportsImages'> & {
  supportsImages?: boolean;
};

export function validGenerationOptions(input: GenerationOptionsInput): ValidGenerationOptions {
  const out: ValidGenerationOptions = {};
  const { maxOutputTokens, thinkingBudgetTokens, reasoningEffort, temperature } = input;
  if (maxOutputTokens !== undefined) {
    out.maxOutputTokens =
      maxOutputTokens === null ? null : tokens('maxOutputTokens', maxOutputTokens, 1);
  }
  if (thinkingBudgetTokens !== undefined) {
    out.thinkingBudgetTokens =
      thinkingBudgetTokens === null
        ? null
        : tokens('thinkingBudgetTokens', thinkingBudgetTokens, MIN_THINKING_BUDGET);
  }
  if (reasoningEffort !== undefined) out.reasoningEffort = reasoningEffort;
  if (input.supportsImages != null) out.supportsImages = input.supportsImages;
  if (temperature !== undefined) {
    if (
      temperature !== null &&
      (!Number.isFinite(temperature) || temperature < 0 || temperature > MAX_TEMPERATURE)
    ) {
      throw badInput('temperature', `temperature must be from 0 to ${MAX_TEMPERATURE}, or null`);
    }
    out.temperature = temperature;
  }
  return out;
}
