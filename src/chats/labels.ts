import { badInput } from '../errors.js';

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

/** Validates a label list (all rules, before anything is written) and returns the stored map. */
export function validateLabels(labels: readonly Label[], field = 'labels'): LabelMap {
  if (labels.length > MAX_LABELS) {
    throw badInput(field, `Too many labels (${labels.length}); at most ${MAX_LABELS} are allowed`);
  }
  const map: LabelMap = {};
  for (const { key, value } of labels) {
    // Lengths count characters (code points), as B24 says, not bytes.
    const keyLength = [...key].length;
    if (keyLength < 1 || keyLength > MAX_LABEL_KEY_LENGTH) {
      throw badInput(field, `Label key "${key}" must be 1-${MAX_LABEL_KEY_LENGTH} characters`);
    }
    if (!LABEL_KEY_PATTERN.test(key)) {
      throw badInput(field, `Label key "${key}" must match ${LABEL_KEY_PATTERN.source}`);
    }
    const valueLength = [...value].length;
    if (valueLength < 1 || valueLength > MAX_LABEL_VALUE_LENGTH) {
      throw badInput(
        field,
        `Label value for key "${key}" must be 1-${MAX_LABEL_VALUE_LENGTH} characters`,
      );
    }
    if (Object.hasOwn(map, key)) throw badInput(field, `Label key "${key}" appears twice`);
    map[key] = value;
  }
  return map;
}

export function labelsToList(stored: unknown): Label[] {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return [];
  return Object.entries(stored as Record<string, unknown>)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([key, value]) => ({ key, value }))
    .sort((a, b) => a.key.localeCompare(b.key));
}
