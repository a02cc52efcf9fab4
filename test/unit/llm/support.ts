import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { createLanguageModel } from '../../../src/llm/index.js';
import type {
  LanguageModel,
  LanguageModelOptions,
  LlmMessage,
  ProviderSettings,
  StreamChunk,
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

/** The chunks of one type, typed as that type. */
export function ofType<T extends StreamChunk['type']>(chunks: StreamChunk[], type: T) {
  return chunks.filter((c): c is Extract<StreamChunk, { type: T }> => c.type === type);
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
