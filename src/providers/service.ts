import type { Deps, Viewer } from '../deps.js';
import { isUniqueViolation } from '../db/errors.js';
import { isUuid } from '../db/ids.js';
import { badInput, conflict, notFound } from '../errors.js';
import { Prisma, type ModelConfig, type Provider } from '../generated/prisma/client.js';
import type { ModelPrices, ProviderKind, ProviderSettings } from '../llm/index.js';
import { blockedProviderUrlReason } from '../llm/network-policy.js';
import { parseInput } from '../parse-input.js';
import { requireAdmin } from '../users/service.js';
import type { GenerationOptionsInput } from './generation-options.js';
import {
  createModelConfigSchema,
  createProviderSchema,
  updateModelConfigSchema,
  updateProviderSchema,
} from './validation.js';

/**
 * Providers (where models are served, with their encrypted API keys) and model configs (one model
 * of a provider, with its context window and prices). Admins manage both; every user may list
 * them to pick a model, but an API key never leaves this module except decrypted for the daemon
 * (B5, B7). Deletes are soft so old messages stay attributable to their model config (B27).
 */

export interface CreateProviderInput {
  kind: ProviderKind;
  displayName: string;
  baseUrl?: string | null;
  apiKey?: string | null;
}

/** For each optional field, null or absent leaves it as it is. */
export interface UpdateProviderInput {
  id: string;
  displayName?: string | null;
  /** "" removes the base URL. */
  baseUrl?: string | null;
  /** "" removes the key. */
  apiKey?: string | null;
  enabled?: boolean | null;
}

type PriceField =
  'inputPriceMicros' | 'outputPriceMicros' | 'cacheReadPriceMicros' | 'cacheWritePriceMicros';

export interface CreateModelConfigInput
  extends Partial<Record<PriceField, number | null>>, GenerationOptionsInput {
  providerId: string;
  model: string;
  /** Default: the model name. */
  displayName?: string | null;
  contextLimit: number;
  /** Default 70. */
  compressionThreshold?: number | null;
  isDefault?: boolean | null;
}

/** Null or absent leaves a field as it is, except prices, where null clears the price. */
export interface UpdateModelConfigInput
  extends Partial<Record<PriceField, number | null>>, GenerationOptionsInput {
  id: string;
  displayName?: string | null;
  enabled?: boolean | null;
  isDefault?: boolean | null;
  contextLimit?: number | null;
  compressionThreshold?: number | null;
}

/** What the daemon needs to call a model config's model and account for it. */
export interface ResolvedModelSettings extends ProviderSettings {
  modelConfigId: string;
  providerId: string;
  /** Decrypted; never log it. Null when the provider has no key. */
  apiKey: string | null;
  prices: ModelPrices;
  contextLimit: number;
  compressionThreshold: number;
  /** Whether the model reads images (else the prompt describes them). */
  supportsImages: boolean;
}

/** Pothos's `query` for nested selections (include/select), passed straight into Prisma. */
type ModelConfigQuery = { include?: Prisma.ModelConfigInclude; select?: Prisma.ModelConfigSelect };
type ProviderQuery = { include?: Prisma.ProviderInclude; select?: Prisma.ProviderSelect };

/** A provider or model config that the daemon may use: enabled and not deleted, both of them. */
/** A config a turn can run with: enabled, not deleted, and so is its provider. */
export const USABLE_MODEL_CONFIG = {
  enabled: true,
  deletedAt: null,
  provider: { enabled: true, deletedAt: null },
} satisfies Prisma.ModelConfigWhereInput;
/** USABLE_MODEL_CONFIG in SQL, for `model_configs mc JOIN providers p ON p.id = mc.provider_id`. */
export const USABLE_MODEL_CONFIG_SQL = Prisma.sql`mc.enabled AND mc.deleted_at IS NULL
  AND p.enabled AND p.deleted_at IS NULL`;

export function createProviderService(deps: Pick<Deps, 'prisma' | 'secretBox' | 'config'>) {
  const { prisma, secretBox, config } = deps;

  /** A parsed baseUrl, against the network policy (checked again at request time, in src/llm). */
  async function assertAllowedBaseUrl(baseUrl: string | null | undefined) {
    if (baseUrl == null || config.ALLOW_PRIVATE_PROVIDER_URLS) return;
    const reason = await blockedProviderUrlReason(baseUrl);
    if (reason) {
      throw badInput(
        'baseUrl',
        `baseUrl refused: ${reason} (set ALLOW_PRIVATE_PROVIDER_URLS=true to allow)`,
      );
    }
  }

  const encryptedKey = (apiKey: string | null) =>
    apiKey === null ? null : secretBox.encrypt(apiKey);

  async function findLiveProvider(id: string) {
    const provider = isUuid(id)
      ? await prisma.provider.findFirst({ where: { id, deletedAt: null } })
      : null;
    if (!provider) throw notFound('Provider');
    return provider;
  }

  async function findLiveModelConfig(id: string) {
    const config = isUuid(id)
      ? await prisma.modelConfig.findFirst({
          where: { id, deletedAt: null },
          include: { provider: true },
        })
      : null;
    if (!config) throw notFound('Model config');
    return config;
  }

  return {
    /** Every non-deleted provider, oldest first. Readable by every user (keys are never exposed). */
    listProviders(_viewer: Viewer, query: ProviderQuery = {}) {
      return prisma.provider.findMany({
        ...query,
        where: { deletedAt: null },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
    },

    async createProvider(viewer: Viewer, input: CreateProviderInput, query: ProviderQuery = {}) {
      requireAdmin(viewer);
      const { kind, displayName, baseUrl, apiKey } = parseInput(createProviderSchema, input);
      await assertAllowedBaseUrl(baseUrl);
      return prisma.provider.create({
        ...query,
        data: { kind, displayName, baseUrl, apiKeyEncrypted: encryptedKey(apiKey) },
      });
    },

    async updateProvider(viewer: Viewer, input: UpdateProviderInput, query: ProviderQuery = {}) {
      requireAdmin(viewer);
      const { id, apiKey, ...data } = parseInput(updateProviderSchema, input);
      await assertAllowedBaseUrl(data.baseUrl);
      const provider = await findLiveProvider(id);
      return prisma.provider.update({
        ...query,
        where: { id: provider.id },
        data: { ...data, apiKeyEncrypted: apiKey === undefined ? undefined : encryptedKey(apiKey) },
      });
    },

    /**
     * Soft delete: the provider and all its model configs are disabled and kept (their messages
     * stay attributable); the configs also stop being the default. Deleted providers are NOT_FOUND
     * to every later mutation.
     */
    async deleteProvider(viewer: Viewer, id: string) {
      requireAdmin(viewer);
      if (!isUuid(id)) throw notFound('Provider');
      const deleted = await prisma.$transaction(async (tx) => {
        const { count } = await tx.provider.updateMany({
          where: { id, deletedAt: null },
          data: { deletedAt: new Date(), enabled: false },
        });
        if (count === 0) return false;
        await tx.modelConfig.updateMany({
          where: { providerId: id },
          data: { enabled: false, isDefault: false },
        });
        return true;
      });
      if (!deleted) throw notFound('Provider');
      return true;
    },

    /** Every non-deleted model config, oldest first (including those of deleted providers, disabled). */
    listModelConfigs(_viewer: Viewer, query: ModelConfigQuery = {}) {
      return prisma.modelConfig.findMany({
        ...query,
        where: { deletedAt: null },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
    },

    async createModelConfig(
      viewer: Viewer,
      input: CreateModelConfigInput,
      query: ModelConfigQuery = {},
    ) {
      requireAdmin(viewer);
      const { providerId, ...data } = parseInput(createModelConfigSchema, input);
      const provider = await findLiveProvider(providerId);
      return withDefaultConflict(() =>
        prisma.$transaction(async (tx) => {
          if (data.isDefault) await clearDefault(tx);
          return tx.modelConfig.create({ ...query, data: { ...data, providerId: provider.id } });
        }),
      );
    },

    async updateModelConfig(
      viewer: Viewer,
      input: UpdateModelConfigInput,
      query: ModelConfigQuery = {},
    ) {
      requireAdmin(viewer);
      const {
        id,
        enabled: enabledInput,
        isDefault: isDefaultInput,
        ...fields
      } = parseInput(updateModelConfigSchema, input);
      const config = await findLiveModelConfig(id);
      if (config.provider.deletedAt) {
        // Its provider is gone: the config stays only for attribution and cannot be used again.
        if (enabledInput === true) {
          throw badInput('enabled', 'The provider of this model config was deleted');
        }
        if (isDefaultInput === true) {
          throw badInput('isDefault', 'The provider of this model config was deleted');
        }
      }
      const enabled = enabledInput ?? config.enabled;
      if (!enabled && isDefaultInput === true) {
        throw badInput('isDefault', 'A disabled model config cannot be the default');
      }
      // Disabling the default leaves no default rather than one that cannot be used.
      const isDefault = enabled && (isDefaultInput ?? config.isDefault);
      const data = { ...fields, enabled, isDefault };
      return withDefaultConflict(() =>
        prisma.$transaction(async (tx) => {
          if (isDefault && !config.isDefault) await clearDefault(tx);
          return tx.modelConfig.update({ ...query, where: { id: config.id }, data });
        }),
      );
    },

    /** Soft delete: kept for attribution, disabled, and no longer the default. */
    async deleteModelConfig(viewer: Viewer, id: string) {
      requireAdmin(viewer);
      const { count } = isUuid(id)
        ? await prisma.modelConfig.updateMany({
            where: { id, deletedAt: null },
            data: { deletedAt: new Date(), enabled: false, isDefault: false },
          })
        : { count: 0 };
      if (count === 0) throw notFound('Model config');
      return true;
    },
  };
}

export type ProviderService = ReturnType<typeof createProviderService>;

/**
 * Everything needed to call a model config's model (with the provider's key decrypted) and to
 * price its usage, in one statement (every turn reads it: issue #9). The config while usable
 * (USABLE_MODEL_CONFIG_SQL: it and its provider enabled and not deleted); with `orDefault`, else
 * the default config (a config deleted under a chat must not strand it). Null when none is
 * usable. The result holds a secret: never log it.
 */
export async function readModelSettings(
  { sql, secretBox }: Pick<Deps, 'sql' | 'secretBox'>,
  modelConfigId: string | null,
  { orDefault }: { orDefault: boolean },
): Promise<ResolvedModelSettings | null> {
  const wanted = modelConfigId && isUuid(modelConfigId) ? modelConfigId : null;
  if (!wanted && !orDefault) return null;
  const rows = await sql.query<
    Omit<ModelSettingsRow, 'provider'> & {
      providerId: string;
      kind: ModelSettingsRow['provider']['kind'];
      baseUrl: string | null;
      apiKeyEncrypted: string | null;
    }
  >`SELECT mc.id::text, mc.model, mc.input_price_micros AS "inputPriceMicros",
      mc.output_price_micros AS "outputPriceMicros",
      mc.cache_read_price_micros AS "cacheReadPriceMicros",
      mc.cache_write_price_micros AS "cacheWritePriceMicros",
      mc.context_limit AS "contextLimit", mc.compression_threshold AS "compressionThreshold",
      mc.max_output_tokens AS "maxOutputTokens",
      mc.thinking_budget_tokens AS "thinkingBudgetTokens",
      mc.reasoning_effort::text AS "reasoningEffort", mc.temperature,
      mc.supports_images AS "supportsImages", p.id::text AS "providerId", p.kind::text AS kind,
      p.base_url AS "baseUrl", p.api_key_encrypted AS "apiKeyEncrypted"
    FROM model_configs mc JOIN providers p ON p.id = mc.provider_id
    WHERE ${USABLE_MODEL_CONFIG_SQL}
      AND (mc.id = ${wanted}::uuid ${orDefault ? Prisma.sql`OR mc.is_default` : Prisma.empty})
    ORDER BY mc.id = ${wanted}::uuid DESC NULLS LAST
    LIMIT 1`;
  const row = rows[0];
  if (!row) return null;
  const { providerId, kind, baseUrl, apiKeyEncrypted, ...config } = row;
  return toResolvedSettings(secretBox, {
    ...config,
    provider: { id: providerId, kind, baseUrl, apiKeyEncrypted },
  });
}

/** One config's settings, no fallback: null when it is missing or not usable. */
export function resolveProviderSettings(
  deps: Pick<Deps, 'sql' | 'secretBox'>,
  modelConfigId: string,
): Promise<ResolvedModelSettings | null> {
  return readModelSettings(deps, modelConfigId, { orDefault: false });
}

/** The columns a turn's model settings are built from (readModelSettings reads them). */
export type ModelSettingsRow = Pick<
  ModelConfig,
  | 'id'
  | 'model'
  | 'inputPriceMicros'
  | 'outputPriceMicros'
  | 'cacheReadPriceMicros'
  | 'cacheWritePriceMicros'
  | 'contextLimit'
  | 'compressionThreshold'
  | 'maxOutputTokens'
  | 'thinkingBudgetTokens'
  | 'reasoningEffort'
  | 'temperature'
  | 'supportsImages'
> & { provider: Pick<Provider, 'id' | 'kind' | 'baseUrl' | 'apiKeyEncrypted'> };

/** A usable config and its provider as a model call needs them, the provider's key decrypted. */
export function toResolvedSettings(
  secretBox: Deps['secretBox'],
  config: ModelSettingsRow,
): ResolvedModelSettings {
  let apiKey: string | null = null;
  if (config.provider.apiKeyEncrypted !== null) {
    try {
      apiKey = secretBox.decrypt(config.provider.apiKeyEncrypted);
    } catch {
      // The message names the provider only: no ciphertext, no key material.
      throw new Error(
        `Cannot decrypt the API key of provider ${config.provider.id}; was SECRET_KEY changed?`,
      );
    }
  }
  return {
    modelConfigId: config.id,
    providerId: config.provider.id,
    kind: config.provider.kind,
    baseUrl: config.provider.baseUrl,
    apiKey,
    model: config.model,
    prices: {
      inputPriceMicros: config.inputPriceMicros,
      outputPriceMicros: config.outputPriceMicros,
      cacheReadPriceMicros: config.cacheReadPriceMicros,
      cacheWritePriceMicros: config.cacheWritePriceMicros,
    },
    contextLimit: config.contextLimit,
    compressionThreshold: config.compressionThreshold,
    options: {
      maxOutputTokens: config.maxOutputTokens,
      thinkingBudgetTokens: config.thinkingBudgetTokens,
      reasoningEffort: config.reasoningEffort,
      temperature: config.temperature,
    },
    supportsImages: config.supportsImages,
  };
}

/** At most one default (a partial unique index enforces it); callers clear it in the same tx. */
function clearDefault(tx: Prisma.TransactionClient) {
  return tx.modelConfig.updateMany({ where: { isDefault: true }, data: { isDefault: false } });
}

/** Two admins making different configs the default at once: the later one gets CONFLICT. */
async function withDefaultConflict<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw conflict('Another model config became the default at the same time; try again');
    }
    throw error;
  }
}
