import { z } from 'zod';
import type { ScriptedResponse } from './types.js';

const nonNegative = z.number().int().nonnegative();

/**
 * A step posted to /__script. Strict, so a typo in a field name is an error instead of a step that
 * silently behaves differently. `match` cannot cross the wire.
 */
const remoteStepSchema = z.strictObject({
  text: z.union([z.string(), z.array(z.string())]).optional(),
  reasoning: z.array(z.string()).optional(),
  reasoningSignature: z.string().optional(),
  toolCalls: z
    .array(
      z.strictObject({
        id: z.string().optional(),
        name: z.string(),
        args: z.unknown(),
        argsChunks: z.number().int().positive().optional(),
      }),
    )
    .optional(),
  usage: z
    .strictObject({
      promptTokens: nonNegative,
      completionTokens: nonNegative,
      reasoningTokens: nonNegative.optional(),
      cachedTokens: nonNegative.optional(),
      cacheWriteTokens: nonNegative.optional(),
    })
    .optional(),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'pause_turn']).optional(),
  delayMs: nonNegative.optional(),
  chunkDelayMs: nonNegative.optional(),
  status: z.number().int().min(100).max(599).optional(),
  errorMessage: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  hang: z.boolean().optional(),
  dropAfterChunks: nonNegative.optional(),
  streamError: z.strictObject({ type: z.string(), message: z.string() }).optional(),
});

const remoteScriptSchema = z.array(remoteStepSchema);

export type ParseScriptResult =
  { ok: true; steps: ScriptedResponse[] } | { ok: false; error: string };

export function parseRemoteScript(json: unknown): ParseScriptResult {
  const parsed = remoteScriptSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
  return { ok: true, steps: parsed.data };
}
