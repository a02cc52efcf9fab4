import type { Deps } from '../deps.js';
import { createLanguageModel, type LanguageModel } from '../llm/index.js';
import {
  findUsableModelConfig,
  resolveProviderSettings,
  type ResolvedModelSettings,
} from '../providers/service.js';

export interface ChatModel {
  settings: ResolvedModelSettings;
  model: LanguageModel;
}

/**
 * The model a chat runs with: its own model config when still usable, else the default one (a
 * config deleted under a chat must not strand it). Null when neither is usable.
 */
export async function resolveChatModel(
  deps: Pick<Deps, 'prisma' | 'secretBox' | 'config'>,
  modelConfigId: string | null,
): Promise<ChatModel | null> {
  let settings = modelConfigId ? await resolveProviderSettings(deps, modelConfigId) : null;
  if (!settings) {
    const fallback = await findUsableModelConfig(deps.prisma);
    settings = fallback ? await resolveProviderSettings(deps, fallback.id) : null;
  }
  if (!settings) return null;
  const model = createLanguageModel(settings, {
    timeoutMs: deps.config.LLM_STREAM_IDLE_TIMEOUT_MS,
    allowPrivateNetwork: deps.config.ALLOW_PRIVATE_PROVIDER_URLS,
  });
  return { settings, model };
}
