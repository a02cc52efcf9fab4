import type { ProviderError } from './errors.js';
import type { LanguageModel, StreamChunk } from './types.js';

/**
 * A model whose every call fails with `error`. Used for configurations that cannot work, so the
 * problem surfaces where the daemon already handles provider errors instead of at construction.
 */
export function failingModel(model: string, error: ProviderError): LanguageModel {
  return {
    model,
    // eslint-disable-next-line require-yield -- fails on the first pull, like a rejected request
    async *stream(): AsyncGenerator<StreamChunk> {
      throw error;
    },
    async complete() {
      throw error;
    },
  };
}
