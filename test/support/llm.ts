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
  cacheReadPriceMicros?: number;
  cacheWritePriceMicros?: number;
}

/** The provider kinds the fake speaks: chat completions, and Anthropic's Messages API. */
export type FakeProviderKind = 'OPENAI_COMPATIBLE' | 'ANTHROPIC';
export const FAKE_PROVIDER_KINDS: readonly FakeProviderKind[] = ['OPENAI_COMPATIBLE', 'ANTHROPIC'];

export interface FakeModelOptions extends ModelPrices {
  contextLimit?: number;
  compressionThreshold?: number;
  /** Default OPENAI_COMPATIBLE. */
  kind?: FakeProviderKind;
  /** Default true. */
  isDefault?: boolean;
  thinkingBudgetTokens?: number;
  /** Default false. */
  supportsImages?: boolean;
}

/** Creates a provider of `kind` (default OPENAI_COMPATIBLE) pointing at the fake, and a model config. */
export async function configureFakeModel(
  admin: TestClient,
  llm: FakeLlm,
  options: FakeModelOptions = {},
): Promise<{ providerId: string; modelConfigId: string }> {
  const kind = options.kind ?? 'OPENAI_COMPATIBLE';
  const provider = await admin.query<{ createProvider: { id: string } }>(
    `mutation ($kind: ProviderKind!, $baseUrl: String!) {
      createProvider(input: { kind: $kind, displayName: "Fake", baseUrl: $baseUrl, apiKey: "sk-fake-key" }) { id }
    }`,
    { kind, baseUrl: kind === 'ANTHROPIC' ? llm.anthropicBaseUrl : llm.baseUrl },
  );
  const model = await admin.query<{ createModelConfig: { id: string } }>(
    `mutation ($input: CreateModelConfigInput!) { createModelConfig(input: $input) { id } }`,
    {
      input: {
        providerId: provider.createProvider.id,
        model: 'fake-model',
        contextLimit: options.contextLimit ?? 100_000,
        compressionThreshold: options.compressionThreshold ?? 70,
        isDefault: options.isDefault ?? true,
        inputPriceMicros: options.inputPriceMicros ?? 1_000_000,
        outputPriceMicros: options.outputPriceMicros ?? 2_000_000,
        cacheReadPriceMicros: options.cacheReadPriceMicros ?? null,
        cacheWritePriceMicros: options.cacheWritePriceMicros ?? null,
        thinkingBudgetTokens: options.thinkingBudgetTokens ?? null,
        supportsImages: options.supportsImages ?? false,
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
