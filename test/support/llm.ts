import {
  failFallback,
  startFakeLlm,
  type ChatRequestBody,
  type FakeLlm,
} from '../../src/testing/fake-llm/index.js';
import type { TestClient } from './client.js';

/**
 * The scripted LLM for daemon tests. Turns are streaming requests and take scripted steps; the
 * non-streaming title request after a first turn is answered with TITLE, so it never consumes a
 * turn's script. Any other unscripted request fails loudly (HTTP 500).
 */
export const GENERATED_TITLE = 'Generated test title';

export const isTurn = (body: ChatRequestBody) => body.stream === true;

export function startScriptedLlm(): Promise<FakeLlm> {
  return startFakeLlm({
    fallback: (body) => (body.stream ? failFallback(body) : { text: GENERATED_TITLE }),
  });
}

export interface ModelPrices {
  inputPriceMicros?: number;
  outputPriceMicros?: number;
}

/** Creates an OPENAI_COMPATIBLE provider pointing at the fake and a default model config. */
export async function configureFakeModel(
  admin: TestClient,
  llm: FakeLlm,
  options: ModelPrices & { contextLimit?: number; compressionThreshold?: number } = {},
): Promise<{ providerId: string; modelConfigId: string }> {
  const provider = await admin.query<{ createProvider: { id: string } }>(
    `mutation ($baseUrl: String!) {
      createProvider(input: { kind: OPENAI_COMPATIBLE, displayName: "Fake", baseUrl: $baseUrl, apiKey: "sk-fake-key" }) { id }
    }`,
    { baseUrl: llm.baseUrl },
  );
  const model = await admin.query<{ createModelConfig: { id: string } }>(
    `mutation ($input: CreateModelConfigInput!) { createModelConfig(input: $input) { id } }`,
    {
      input: {
        providerId: provider.createProvider.id,
        model: 'fake-model',
        contextLimit: options.contextLimit ?? 100_000,
        compressionThreshold: options.compressionThreshold ?? 70,
        isDefault: true,
        inputPriceMicros: options.inputPriceMicros ?? 1_000_000,
        outputPriceMicros: options.outputPriceMicros ?? 2_000_000,
      },
    },
  );
  return { providerId: provider.createProvider.id, modelConfigId: model.createModelConfig.id };
}

/** A promise a test resolves by hand: script a step with `gate` and open it when ready. */
export function createGate(): { promise: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
