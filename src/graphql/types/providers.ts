import type { InputObjectRef } from '@pothos/core';
import { isUuid } from '../../db/ids.js';
import type { Viewer } from '../../deps.js';
import type { ProviderService } from '../../providers/service.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { NodeInterface, registerNodeLoader } from './node.js';

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export const ProviderKindEnum = builder.enumType('ProviderKind', {
  values: ['OPENAI', 'OPENAI_COMPATIBLE', 'ANTHROPIC'] as const,
});

export const ReasoningEffortEnum = builder.enumType('ReasoningEffort', {
  values: ['LOW', 'MEDIUM', 'HIGH'] as const,
  description: "How hard a reasoning model thinks (OpenAI's reasoning_effort).",
});

export const ProviderType = builder.prismaObject('Provider', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: ProviderKindEnum }),
    displayName: t.exposeString('displayName'),
    baseUrl: t.exposeString('baseUrl', { nullable: true }),
    // The key itself is never exposed, not even encrypted (B7).
    hasApiKey: t.boolean({
      description: 'True when an API key is stored. The key itself is never returned.',
      select: { apiKeyEncrypted: true },
      resolve: (provider) => provider.apiKeyEncrypted !== null,
    }),
    enabled: t.exposeBoolean('enabled'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const ModelConfigType = builder.prismaObject('ModelConfig', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    // Resolves even when the provider was soft-deleted: old usage stays attributable.
    provider: t.relation('provider'),
    model: t.exposeString('model', { description: 'The model name sent to the provider.' }),
    displayName: t.exposeString('displayName'),
    enabled: t.exposeBoolean('enabled'),
    isDefault: t.exposeBoolean('isDefault'),
    contextLimit: t.exposeInt('contextLimit', { description: 'Context window in tokens.' }),
    compressionThreshold: t.exposeInt('compressionThreshold', {
      description:
        'Compact the conversation when prompt tokens exceed this percent (0-100) of contextLimit.',
    }),
    inputPriceMicros: t.exposeFloat('inputPriceMicros', {
      nullable: true,
      description: 'Prices in micro-dollars per million tokens; used for cost accounting.',
    }),
    outputPriceMicros: t.exposeFloat('outputPriceMicros', { nullable: true }),
    cacheReadPriceMicros: t.exposeFloat('cacheReadPriceMicros', { nullable: true }),
    cacheWritePriceMicros: t.exposeFloat('cacheWritePriceMicros', { nullable: true }),
    maxOutputTokens: t.exposeInt('maxOutputTokens', {
      nullable: true,
      description: 'Output cap per call; null: the provider default (8192 on ANTHROPIC).',
    }),
    thinkingBudgetTokens: t.exposeInt('thinkingBudgetTokens', {
      nullable: true,
      description: 'ANTHROPIC extended thinking budget (at least 1024); null: no thinking.',
    }),
    reasoningEffort: t.expose('reasoningEffort', {
      type: ReasoningEffortEnum,
      nullable: true,
      description:
        'reasoning_effort for OpenAI reasoning models; on ANTHROPIC without a budget, a budget of 2048 / 8192 / 24576.',
    }),
    supportsImages: t.exposeBoolean('supportsImages', {
      description: 'Whether the model reads images; if not, attached images are described in text.',
    }),
    temperature: t.exposeFloat('temperature', {
      nullable: true,
      description: 'Sampling temperature (0-2); ignored by ANTHROPIC while thinking.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

// Every user may see providers and model configs (to pick a model); deleted ones are gone.
registerNodeLoader('Provider', async (ctx, id) =>
  isUuid(id) ? ctx.prisma.provider.findFirst({ where: { id, deletedAt: null } }) : null,
);
registerNodeLoader('ModelConfig', async (ctx, id) =>
  isUuid(id) ? ctx.prisma.modelConfig.findFirst({ where: { id, deletedAt: null } }) : null,
);

const CreateProviderInput = builder.inputType('CreateProviderInput', {
  fields: (t) => ({
    kind: t.field({ type: ProviderKindEnum, required: true }),
    displayName: t.string({ required: true }),
    baseUrl: t.string(),
    apiKey: t.string(),
  }),
});

const UpdateProviderInput = builder.inputType('UpdateProviderInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    displayName: t.string(),
    baseUrl: t.string({ description: 'Empty string removes the base URL.' }),
    apiKey: t.string({ description: 'Empty string removes the key.' }),
    enabled: t.boolean(),
  }),
});

/** Prices and generation options, declared once for create and update. */
const priceAndGenerationFields = (
  t: PothosSchemaTypes.InputFieldBuilder<BuilderTypes, 'InputObject'>,
) => ({
  inputPriceMicros: t.float(),
  outputPriceMicros: t.float(),
  cacheReadPriceMicros: t.float(),
  cacheWritePriceMicros: t.float(),
  maxOutputTokens: t.int({ description: 'Null clears (provider default).' }),
  thinkingBudgetTokens: t.int({ description: 'Null clears (no thinking).' }),
  reasoningEffort: t.field({ type: ReasoningEffortEnum, description: 'Null clears.' }),
  temperature: t.float({ description: 'Null clears.' }),
  supportsImages: t.boolean({ description: 'Default false.' }),
});

const CreateModelConfigInput = builder.inputType('CreateModelConfigInput', {
  fields: (t) => ({
    providerId: t.id({ required: true }),
    model: t.string({ required: true }),
    displayName: t.string({ description: 'Default: the model name.' }),
    contextLimit: t.int({ required: true }),
    compressionThreshold: t.int({ description: 'Default 70.' }),
    isDefault: t.boolean(),
    ...priceAndGenerationFields(t),
  }),
});

const UpdateModelConfigInput = builder.inputType('UpdateModelConfigInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    displayName: t.string(),
    enabled: t.boolean(),
    isDefault: t.boolean(),
    contextLimit: t.int(),
    compressionThreshold: t.int(),
    ...priceAndGenerationFields(t),
  }),
});

builder.queryFields((t) => ({
  providers: t.prismaField({
    type: ['Provider'],
    resolve: (query, _root, _args, ctx) => ctx.services.providers.listProviders(ctx.viewer, query),
  }),
  modelConfigs: t.prismaField({
    type: ['ModelConfig'],
    resolve: (query, _root, _args, ctx) =>
      ctx.services.providers.listModelConfigs(ctx.viewer, query),
  }),
}));

builder.mutationFields((t) => {
  /**
   * Args and resolver of a create or update: the one `input`, the viewer and the selection go to
   * the provider service, which authorises, validates and writes.
   */
  const inputToService = <Input, Query, Row>(
    type: InputObjectRef<BuilderTypes, Input>,
    method: (
      providers: ProviderService,
    ) => (viewer: Viewer, input: Input, query: Query) => Promise<Row>,
  ) => ({
    args: { input: t.arg({ type, required: true }) },
    resolve: (query: Query, _root: unknown, args: { input: Input }, ctx: GraphQLContext) =>
      method(ctx.services.providers)(ctx.viewer, args.input, query),
  });
  return {
    createProvider: t.prismaField({
      type: 'Provider',
      ...inputToService(CreateProviderInput, (providers) => providers.createProvider),
    }),
    updateProvider: t.prismaField({
      type: 'Provider',
      ...inputToService(UpdateProviderInput, (providers) => providers.updateProvider),
    }),
    deleteProvider: t.boolean({
      description: 'Its model configs are disabled and kept, so old usage stays attributable.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => ctx.services.providers.deleteProvider(ctx.viewer, id),
    }),
    createModelConfig: t.prismaField({
      type: 'ModelConfig',
      ...inputToService(CreateModelConfigInput, (providers) => providers.createModelConfig),
    }),
    updateModelConfig: t.prismaField({
      type: 'ModelConfig',
      ...inputToService(UpdateModelConfigInput, (providers) => providers.updateModelConfig),
    }),
    deleteModelConfig: t.boolean({
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, ctx) => ctx.services.providers.deleteModelConfig(ctx.viewer, id),
    }),
  };
});
