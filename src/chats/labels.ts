import { z } from 'zod';
import { parseInput } from '../parse-input.js';

/** B24. Labels are stored as a jsonb object {key: value}; the API shows them as a list. */
export const MAX_LABELS = 50;
export const MAX_LABEL_KEY_LENGTH = 64;
export const MAX_LABEL_VALUE_LENGTH = 256;
export const LABEL_KEY_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/;

export interface Label {
  key: string;
  value: string;
}
export type LabelMap = Record<string, string>;

// Lengths count characters (code points), as B24 says, not bytes.
const characters = (text: string) => [...text].length;

const labelListSchema = z
  .array(
    z.object({ key: z.string(), value: z.string() }).check((ctx) => {
      const { key, value } = ctx.value;
      const problem =
        characters(key) < 1 || characters(key) > MAX_LABEL_KEY_LENGTH
          ? `Label key "${key}" must be 1-${MAX_LABEL_KEY_LENGTH} characters`
          : !LABEL_KEY_PATTERN.test(key)
            ? `Label key "${key}" must match ${LABEL_KEY_PATTERN.source}`
            : characters(value) < 1 || characters(value) > MAX_LABEL_VALUE_LENGTH
              ? `Label value for key "${key}" must be 1-${MAX_LABEL_VALUE_LENGTH} characters`
              : null;
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    }),
  )
  .max(MAX_LABELS, {
    error: (issue) =>
      `Too many labels (${(issue.input as unknown[]).length}); at most ${MAX_LABELS} are allowed`,
  })
  .check((ctx) => {
    const seen = new Set<string>();
    for (const { key } of ctx.value) {
      if (seen.has(key)) {
        ctx.issues.push({
          code: 'custom',
          message: `Label key "${key}" appears twice`,
          input: key,
        });
        return;
      }
      seen.add(key);
    }
  });

/** Validates a label list (all rules, before anything is written) and returns the stored map. */
export function validateLabels(labels: readonly Label[], field = 'labels'): LabelMap {
  const valid = parseInput(labelListSchema, labels, field);
  return Object.fromEntries(valid.map(({ key, value }) => [key, value]));
}

export function labelsToList(stored: unknown): Label[] {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return [];
  return Object.entries(stored as Record<string, unknown>)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
