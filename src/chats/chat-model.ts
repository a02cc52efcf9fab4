import { createHash } from 'node:crypto';
import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
import type { Deps } from '../deps.js';
import type { ModelConfig } from '../generated/prisma/client.js';
import { createLanguageModel, type LanguageModel } from '../llm/index.js';
import {
  readModelSettings,
  USABLE_MODEL_CONFIG,
  type ResolvedModelSettings,
} from '../providers/service.js';

/**
 * Chat.modelConfig for a page of chats, in one query: per chat's config id, the config its next
 * turn runs with, as resolveChatModel picks it (its own while usable, else the default), or null
 * when no config is usable. A deleted or disabled config therefore shows the default that
 * replaces it, not a config no turn uses any more.
 */
export async function effectiveModelConfigs(
  prisma: PrismaClient,
  modelConfigIds: readonly (string | null)[],
): Promise<(ModelConfig | null)[]> {
  const wanted = [...new Set(modelConfigIds.filter((id): id is string => !!id && isUuid(id)))];
  const configs = await prisma.modelConfig.findMany({
    where: { ...USABLE_MODEL_CONFIG, OR: [{ id: { in: wanted } }, { isDefault: true }] },
  });
  const byId = new Map(configs.map((config) => [config.id, config]));
  const fallback = configs.find((config) => config.isDefault) ?? null;
  return modelConfigIds.map((id) => (id ? byId.get(id) : undefined) ?? fallback);
}

export interface ChatModel {
  settings: ResolvedModelSettings;
  model: LanguageModel;
}

/**
 * The model a chat runs with: its own model config when still usable, else the default one (a
 * config deleted under a chat must not strand it). Null when neither is usable.
 */
export async function resolveChatModel(
  deps: Pick<Deps, 'sql' | 'secretBox' | 'config'>,
  modelConfigId: string | null,
): Promise<ChatModel | null> {
  const settings = await readModelSettings(deps, modelConfigId, { orDefault: true });
  if (!settings) return null;
  const model = cachedLanguageModel(settings, {
    timeoutMs: deps.config.LLM_STREAM_IDLE_TIMEOUT_MS,
    allowPrivateNetwork: deps.config.ALLOW_PRIVATE_PROVIDER_URLS,
  });
  return { settings, model };
}

/** Distinct provider settings whose models are kept; past this the oldest is dropped. */
const MODEL_CACHE_SIZE = 64;
const models = new Map<string, LanguageModel>();

/**
 * Building a model builds its SDK client (the OpenAI client constructs some thirty resource
 * objects): a few ms of CPU per turn, the largest single cost of a trivial turn's setup in the
 * issue #9 profile. A model holds no per-call state, so turns with the same settings share one.
 * The key is every setting the model is built from (read fresh from the database each turn), so
 * an edited provider or model config simply gets a new entry; it is hashed so that no plaintext
 * API key is kept as a map key.
 */
function cachedLanguageModel(
  settings: ResolvedModelSettings,
  options: { timeoutMs: number; allowPrivateNetwork: boolean },
): LanguageModel {
  const key = createHash('sha256')
    .update(JSON.stringify([settings, options]))
    .digest('base64');
  let model = models.get(key);
  if (model) return model;
  model = createLanguageModel(settings, options);
  if (models.size >= MODEL_CACHE_SIZE) models.delete(models.keys().next().value!);
  models.set(key, model);
  return model;
}
