import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { createLanguageModel } from '../../../src/llm/index.js';
import type {
  LanguageModel,
  LanguageModelOptions,
  LlmMessage,
  ProviderSettings,
} from '../../../src/llm/index.js';

export const TEST_API_KEY = 'sk-test-0123456789abcdef';
export const HELLO: LlmMessage[] = [{ role: 'user', content: 'hello' }];

/** A model of the given kind pointed at the fake. */
export function modelFor(
  llm: FakeLlm,
  settings: Partial<ProviderSettings> = {},
  options: LanguageModelOptions = {},
): LanguageModel {
  return createLanguageModel(
    {
      kind: 'OPENAI_COMPATIBLE',
      baseUrl: llm.baseUrl,
      apiKey: TEST_API_KEY,
      model: 'fake-model',
      ...settings,
    },
    options,
  );
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Collects until the iterable throws, returning both what arrived and the error. */
export async function collectUntilError<T>(
  iterable: AsyncIterable<T>,
): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  throw new Error(`expected the stream to fail, it yielded ${items.length} items and ended`);
}
