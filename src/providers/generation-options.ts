import { z } from 'zod';
import type { ReasoningEffort } from '../llm/index.js';
import { integerFrom, nullMeansUnchanged, numberFrom } from '../parse-input.js';

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
const REASONING_EFFORTS = ['LOW', 'MEDIUM', 'HIGH'] as const satisfies readonly ReasoningEffort[];

const tokens = (field: string, min: number) =>
  integerFrom(
    min,
    MAX_OUTPUT_TOKENS,
    `${field} must be an integer from ${min} to ${MAX_OUTPUT_TOKENS}, or null`,
  )
    .nullable()
    .optional();

/** The fields of GenerationOptionsInput, for the model config schemas (validation.ts). */
export const generationOptionsShape = {
  maxOutputTokens: tokens('maxOutputTokens', 1),
  thinkingBudgetTokens: tokens('thinkingBudgetTokens', MIN_THINKING_BUDGET),
  reasoningEffort: z.enum(REASONING_EFFORTS).nullable().optional(),
  temperature: numberFrom(
    0,
    MAX_TEMPERATURE,
    `temperature must be from 0 to ${MAX_TEMPERATURE}, or null`,
  )
    .nullable()
    .optional(),
  supportsImages: nullMeansUnchanged(z.boolean()),
};
