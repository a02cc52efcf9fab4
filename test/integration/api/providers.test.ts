import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProviderSettings } from '../../../src/providers/service.js';
import type { TestClient } from '../../support/client.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const PROVIDER_FIELDS = 'id kind displayName baseUrl hasApiKey enabled createdAt';
const MODEL_CONFIG_FIELDS = `id model displayName enabled isDefault contextLimit compressionThreshold
  inputPriceMicros outputPriceMicros cacheReadPriceMicros cacheWritePriceMicros createdAt
  provider { id displayName }`;

interface Provider {
  id: string;
  kind: string;
  displayName: string;
  baseUrl: string | null;
  hasApiKey: boolean;
  enabled: boolean;
}
interface ModelConfig {
  id: string;
  model: string;
  displayName: string;
  enabled: boolean;
  isDefault: boolean;
  contextLimit: number;
  compressionThreshold: number;
  inputPriceMicros: number | null;
  outputPriceMicros: number | null;
  cacheReadPriceMicros: number | null;
  cacheWritePriceMicros: number | null;
  provider: { id: string; displayName: string };
}

const CREATE_PROVIDER = `mutation ($input: CreateProviderInput!) {
  createProvider(input: $input) { ${PROVIDER_FIELDS} } }`;
const UPDATE_PROVIDER = `mutation ($input: UpdateProviderInput!) {
  updateProvider(input: $input) { ${PROVIDER_FIELDS} } }`;
const DELETE_PROVIDER = `mutation ($id: ID!) { deleteProvider(id: $id) }`;
const CREATE_MODEL_CONFIG = `mutation ($input: CreateModelConfigInput!) {
  createModelConfig(input: $input) { ${MODEL_CONFIG_FIELDS} } }`;
const UPDATE_MODEL_CONFIG = `mutation ($input: UpdateModelConfigInput!) {
  updateModelConfig(input: $input) { ${MODEL_CONFIG_FIELDS} } }`;
const DELETE_MODEL_CONFIG = `mutation ($id: ID!) { deleteModelConfig(id: $id) }`;
const LIST = `{ providers { ${PROVIDER_FIELDS} } modelConfigs { ${MODEL_CONFIG_FIELDS} } }`;

describe('providers and model configs (B5, B7)', () => {
  let server: TestServer;
  let member: TestClient;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    member = (await server.createMember()).client;
  });
  afterAll(() => server?.close());

  const prisma = () => server.app.deps.prisma;

  async function createProvider(input: Record<string, unknown> = {}) {
    const data = await server.admin.query<{ createProvider: Provider }>(CREATE_PROVIDER, {
      input: { kind: 'OPENAI', displayName: 'OpenAI', ...input },
    });
    return data.createProvider;
  }

  async function createModelConfig(providerId: string, input: Record<string, unknown> = {}) {
    const data = await server.admin.query<{ createModelConfig: ModelConfig }>(CREATE_MODEL_CONFIG, {
      input: { providerId, model: 'gpt-test', contextLimit: 128_000, ...input },
    });
    return data.createModelConfig;
  }

  async function snapshot() {
    return {
      providers: await prisma().provider.findMany({ orderBy: { id: 'asc' } }),
      modelConfigs: await prisma().modelConfig.findMany({ orderBy: { id: 'asc' } }),
    };
  }

  describe('providers', () => {
    it('creates a provider, stores the key encrypted and never returns it', async () => {
      const apiKey = 'sk-test-super-secret-key-123456';
      const response = await server.admin.request<{ createProvider: Provider }>(CREATE_PROVIDER, {
        input: {
          kind: 'OPENAI_COMPATIBLE',
          displayName: '  Local vLLM  ',
          baseUrl: 'http://127.0.0.1:8000/v1',
          apiKey,
        },
      });
      expect(response.errors).toBeUndefined();
      const provider = response.data!.createProvider;
      expect(provider).toMatchObject({
        kind: 'OPENAI_COMPATIBLE',
        displayName: 'Local vLLM',
        baseUrl: 'http://127.0.0.1:8000/v1',
        hasApiKey: true,
        enabled: true,
      });
      expect(JSON.stringify(response)).not.toContain(apiKey);

      const stored = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      expect(stored.apiKeyEncrypted).toBeTruthy();
      expect(stored.apiKeyEncrypted).not.toContain(apiKey);
      expect(server.app.deps.secretBox.decrypt(stored.apiKeyEncrypted!)).toBe(apiKey);

      const listed = await server.admin.request(LIST);
      expect(JSON.stringify(listed)).not.toContain(apiKey);
      expect((listed.data as { providers: Provider[] }).providers.map((p) => p.id)).toContain(
        provider.id,
      );
    });

    it('updates fields; a null key leaves it, an empty key removes it', async () => {
      const provider = await createProvider({ apiKey: 'sk-keep-me' });
      const before = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });

      const renamed = await server.admin.query<{ updateProvider: Provider }>(UPDATE_PROVIDER, {
        input: { id: provider.id, displayName: 'Renamed', apiKey: null, enabled: false },
      });
      expect(renamed.updateProvider).toMatchObject({
        displayName: 'Renamed',
        hasApiKey: true,
        enabled: false,
      });
      const kept = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      expect(kept.apiKeyEncrypted).toBe(before.apiKeyEncrypted);

      const replaced = await server.admin.query<{ updateProvider: Provider }>(UPDATE_PROVIDER, {
        input: { id: provider.id, apiKey: 'sk-new-key', baseUrl: 'https://api.example.com/v1' },
      });
      expect(replaced.updateProvider).toMatchObject({
        hasApiKey: true,
        baseUrl: 'https://api.example.com/v1',
      });
      const rotated = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      expect(server.app.deps.secretBox.decrypt(rotated.apiKeyEncrypted!)).toBe('sk-new-key');

      const removed = await server.admin.query<{ updateProvider: Provider }>(UPDATE_PROVIDER, {
        input: { id: provider.id, apiKey: '', baseUrl: '' },
      });
      expect(removed.updateProvider).toMatchObject({ hasApiKey: false, baseUrl: null });
      const cleared = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      expect(cleared.apiKeyEncrypted).toBeNull();
    });

    it.each([
      ['displayName', { displayName: '   ' }],
      ['displayName', { displayName: 'x'.repeat(101) }],
      ['baseUrl', { baseUrl: 'ftp://example.com' }],
      ['baseUrl', { baseUrl: 'not a url' }],
    ])('rejects a bad %s on create with BAD_USER_INPUT and creates nothing', async (field, bad) => {
      const before = await prisma().provider.count();
      const { errors } = await server.admin.expectError(CREATE_PROVIDER, {
        input: { kind: 'OPENAI', displayName: 'ok', ...bad },
      });
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await prisma().provider.count()).toBe(before);
    });

    it('rejects an unknown kind with BAD_USER_INPUT', async () => {
      // Inline, so it fails validation. (Through variables it is a coercion error, which
      // src/graphql/errors.ts currently reports as INTERNAL.)
      const { codes } = await server.admin.expectError(
        'mutation { createProvider(input: { kind: NOPE, displayName: "x" }) { id } }',
      );
      expect(codes).toEqual(['BAD_USER_INPUT']);
    });

    it('rejects a bad update with BAD_USER_INPUT and changes nothing', async () => {
      const provider = await createProvider({ displayName: 'Stable', apiKey: 'sk-stable' });
      const before = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      const { errors } = await server.admin.expectError(UPDATE_PROVIDER, {
        input: { id: provider.id, displayName: 'New name', baseUrl: 'javascript:alert(1)' },
      });
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'baseUrl' });
      expect(await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } })).toEqual(
        before,
      );
    });

    it('answers NOT_FOUND for an unknown or malformed provider id', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'garbage']) {
        const update = await server.admin.expectError(UPDATE_PROVIDER, {
          input: { id, displayName: 'x' },
        });
        expect(update.codes).toEqual(['NOT_FOUND']);
        expect((await server.admin.expectError(DELETE_PROVIDER, { id })).codes).toEqual([
          'NOT_FOUND',
        ]);
      }
    });

    it('soft-deletes a provider: its model configs are disabled and kept', async () => {
      const provider = await createProvider({ displayName: 'Doomed', apiKey: 'sk-doomed' });
      const config = await createModelConfig(provider.id, { model: 'doomed-1', isDefault: true });
      const other = await createModelConfig(provider.id, { model: 'doomed-2' });

      const deleted = await server.admin.query<{ deleteProvider: boolean }>(DELETE_PROVIDER, {
        id: provider.id,
      });
      expect(deleted.deleteProvider).toBe(true);

      const row = await prisma().provider.findUniqueOrThrow({ where: { id: provider.id } });
      expect(row.deletedAt).not.toBeNull();
      expect(row.enabled).toBe(false);
      const configs = await prisma().modelConfig.findMany({ where: { providerId: provider.id } });
      expect(configs.map((c) => c.id).sort()).toEqual([config.id, other.id].sort());
      expect(configs.every((c) => !c.enabled && !c.isDefault && c.deletedAt === null)).toBe(true);

      const list = await server.admin.query<{ providers: Provider[]; modelConfigs: ModelConfig[] }>(
        LIST,
      );
      expect(list.providers.map((p) => p.id)).not.toContain(provider.id);
      // The kept configs still resolve their (deleted) provider.
      const kept = list.modelConfigs.find((c) => c.id === config.id);
      expect(kept).toMatchObject({
        enabled: false,
        provider: { id: provider.id, displayName: 'Doomed' },
      });

      expect(
        (
          await server.admin.expectError(UPDATE_PROVIDER, {
            input: { id: provider.id, displayName: 'back' },
          })
        ).codes,
      ).toEqual(['NOT_FOUND']);
      expect((await server.admin.expectError(DELETE_PROVIDER, { id: provider.id })).codes).toEqual([
        'NOT_FOUND',
      ]);
      expect(
        (
          await server.admin.expectError(CREATE_MODEL_CONFIG, {
            input: { providerId: provider.id, model: 'm', contextLimit: 1000 },
          })
        ).codes,
      ).toEqual(['NOT_FOUND']);
      const reenable = await server.admin.expectError(UPDATE_MODEL_CONFIG, {
        input: { id: config.id, enabled: true },
      });
      expect(reenable.errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'enabled',
      });
      expect(await resolveProviderSettings(server.app.deps, config.id)).toBeNull();
    });

    it('loads providers and model configs through node(id)', async () => {
      const provider = await createProvider({ displayName: 'Noded' });
      const config = await createModelConfig(provider.id, { model: 'noded' });
      const data = await member.query<{
        p: { __typename: string; id: string; displayName?: string } | null;
        m: { __typename: string; id: string; model?: string } | null;
      }>(
        `query ($p: ID!, $m: ID!) {
          p: node(id: $p) { __typename id ... on Provider { displayName } }
          m: node(id: $m) { __typename id ... on ModelConfig { model } }
        }`,
        { p: provider.id, m: config.id },
      );
      expect(data.p).toEqual({ __typename: 'Provider', id: provider.id, displayName: 'Noded' });
      expect(data.m).toEqual({ __typename: 'ModelConfig', id: config.id, model: 'noded' });
    });
  });

  describe('model configs', () => {
    it('creates a model config with defaults', async () => {
      const provider = await createProvider({ displayName: 'Defaults' });
      const config = await createModelConfig(provider.id, { model: '  claude-test  ' });
      expect(config).toMatchObject({
        model: 'claude-test',
        displayName: 'claude-test',
        enabled: true,
        isDefault: false,
        contextLimit: 128_000,
        compressionThreshold: 70,
        inputPriceMicros: null,
        outputPriceMicros: null,
        provider: { id: provider.id, displayName: 'Defaults' },
      });
      const listed = await member.query<{ modelConfigs: ModelConfig[] }>(LIST);
      expect(listed.modelConfigs.map((c) => c.id)).toContain(config.id);
    });

    it.each([
      ['model', { model: '  ' }],
      ['displayName', { displayName: '' }],
      ['contextLimit', { contextLimit: 0 }],
      ['contextLimit', { contextLimit: -5 }],
      ['compressionThreshold', { compressionThreshold: 101 }],
      ['compressionThreshold', { compressionThreshold: -1 }],
      ['inputPriceMicros', { inputPriceMicros: -1 }],
      ['cacheWritePriceMicros', { cacheWritePriceMicros: -0.5 }],
    ])('rejects a bad %s with BAD_USER_INPUT and creates nothing', async (field, bad) => {
      const provider = await createProvider();
      const before = await prisma().modelConfig.count();
      const { errors } = await server.admin.expectError(CREATE_MODEL_CONFIG, {
        input: { providerId: provider.id, model: 'm', contextLimit: 1000, ...bad },
      });
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await prisma().modelConfig.count()).toBe(before);
    });

    it('answers NOT_FOUND for an unknown provider and creates nothing', async () => {
      const before = await prisma().modelConfig.count();
      const { codes } = await server.admin.expectError(CREATE_MODEL_CONFIG, {
        input: {
          providerId: '00000000-0000-4000-8000-000000000000',
          model: 'm',
          contextLimit: 1000,
        },
      });
      expect(codes).toEqual(['NOT_FOUND']);
      expect(await prisma().modelConfig.count()).toBe(before);
    });

    it('keeps a single default across creates and updates', async () => {
      const provider = await createProvider();
      const a = await createModelConfig(provider.id, { model: 'a', isDefault: true });
      const b = await createModelConfig(provider.id, { model: 'b', isDefault: true });
      expect(b.isDefault).toBe(true);
      const defaults = () =>
        prisma()
          .modelConfig.findMany({ where: { isDefault: true } })
          .then((rows) => rows.map((row) => row.id));
      expect(await defaults()).toEqual([b.id]);

      const updated = await server.admin.query<{ updateModelConfig: ModelConfig }>(
        UPDATE_MODEL_CONFIG,
        { input: { id: a.id, isDefault: true } },
      );
      expect(updated.updateModelConfig.isDefault).toBe(true);
      expect(await defaults()).toEqual([a.id]);

      // Disabling the default leaves no default rather than an unusable one.
      await server.admin.query(UPDATE_MODEL_CONFIG, { input: { id: a.id, enabled: false } });
      expect(await defaults()).toEqual([]);
      const bad = await server.admin.expectError(UPDATE_MODEL_CONFIG, {
        input: { id: a.id, isDefault: true },
      });
      expect(bad.errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'isDefault',
      });
      expect(await defaults()).toEqual([]);
    });

    it('updates fields; null prices clear, absent ones stay', async () => {
      const provider = await createProvider();
      const config = await createModelConfig(provider.id, {
        inputPriceMicros: 3_000_000,
        outputPriceMicros: 15_000_000,
      });
      const data = await server.admin.query<{ updateModelConfig: ModelConfig }>(
        UPDATE_MODEL_CONFIG,
        {
          input: {
            id: config.id,
            displayName: 'Renamed',
            contextLimit: 200_000,
            compressionThreshold: 0,
            inputPriceMicros: null,
            cacheReadPriceMicros: 300_000,
          },
        },
      );
      expect(data.updateModelConfig).toMatchObject({
        displayName: 'Renamed',
        contextLimit: 200_000,
        compressionThreshold: 0,
        inputPriceMicros: null,
        outputPriceMicros: 15_000_000,
        cacheReadPriceMicros: 300_000,
      });
    });

    it('rejects a bad update with BAD_USER_INPUT and changes nothing', async () => {
      const provider = await createProvider();
      const config = await createModelConfig(provider.id);
      const before = await prisma().modelConfig.findUniqueOrThrow({ where: { id: config.id } });
      const { errors } = await server.admin.expectError(UPDATE_MODEL_CONFIG, {
        input: { id: config.id, displayName: 'fine', compressionThreshold: 150 },
      });
      expect(errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'compressionThreshold',
      });
      expect(await prisma().modelConfig.findUniqueOrThrow({ where: { id: config.id } })).toEqual(
        before,
      );
    });

    it('soft-deletes a model config', async () => {
      const provider = await createProvider();
      const config = await createModelConfig(provider.id, { isDefault: true });
      const data = await server.admin.query<{ deleteModelConfig: boolean }>(DELETE_MODEL_CONFIG, {
        id: config.id,
      });
      expect(data.deleteModelConfig).toBe(true);
      const row = await prisma().modelConfig.findUniqueOrThrow({ where: { id: config.id } });
      expect(row).toMatchObject({ enabled: false, isDefault: false });
      expect(row.deletedAt).not.toBeNull();
      const list = await server.admin.query<{ modelConfigs: ModelConfig[] }>(LIST);
      expect(list.modelConfigs.map((c) => c.id)).not.toContain(config.id);
      expect(
        (await server.admin.expectError(UPDATE_MODEL_CONFIG, { input: { id: config.id } })).codes,
      ).toEqual(['NOT_FOUND']);
      expect(
        (await server.admin.expectError(DELETE_MODEL_CONFIG, { id: config.id })).codes,
      ).toEqual(['NOT_FOUND']);
    });

    it('resolves provider settings for the daemon, with the key decrypted', async () => {
      const provider = await createProvider({
        kind: 'ANTHROPIC',
        baseUrl: 'https://anthropic.example/v1',
        apiKey: 'sk-ant-daemon',
      });
      const config = await createModelConfig(provider.id, {
        model: 'claude-x',
        contextLimit: 200_000,
        compressionThreshold: 80,
        inputPriceMicros: 3_000_000,
        outputPriceMicros: 15_000_000,
        cacheReadPriceMicros: 300_000,
      });
      expect(await resolveProviderSettings(server.app.deps, config.id)).toEqual({
        modelConfigId: config.id,
        providerId: provider.id,
        kind: 'ANTHROPIC',
        baseUrl: 'https://anthropic.example/v1',
        apiKey: 'sk-ant-daemon',
        model: 'claude-x',
        prices: {
          inputPriceMicros: 3_000_000,
          outputPriceMicros: 15_000_000,
          cacheReadPriceMicros: 300_000,
          cacheWritePriceMicros: null,
        },
        contextLimit: 200_000,
        compressionThreshold: 80,
        options: {
          maxOutputTokens: null,
          thinkingBudgetTokens: null,
          reasoningEffort: null,
          temperature: null,
        },
        supportsImages: false,
      });

      await server.admin.query(UPDATE_PROVIDER, { input: { id: provider.id, enabled: false } });
      expect(await resolveProviderSettings(server.app.deps, config.id)).toBeNull();
      await server.admin.query(UPDATE_PROVIDER, { input: { id: provider.id, enabled: true } });
      expect(await resolveProviderSettings(server.app.deps, config.id)).not.toBeNull();
      await server.admin.query(UPDATE_MODEL_CONFIG, { input: { id: config.id, enabled: false } });
      expect(await resolveProviderSettings(server.app.deps, config.id)).toBeNull();
      expect(await resolveProviderSettings(server.app.deps, 'nope')).toBeNull();
    });
  });

  describe('access', () => {
    it('lets members list providers and model configs without keys', async () => {
      const provider = await createProvider({ displayName: 'Visible', apiKey: 'sk-member-cant' });
      const response = await member.request<{ providers: Provider[] }>(LIST);
      expect(response.errors).toBeUndefined();
      expect(response.data!.providers.find((p) => p.id === provider.id)).toMatchObject({
        hasApiKey: true,
      });
      expect(JSON.stringify(response)).not.toContain('sk-member-cant');
    });

    it('forbids members every provider and model config mutation and changes nothing', async () => {
      const provider = await createProvider({ displayName: 'Guarded' });
      const config = await createModelConfig(provider.id, { model: 'guarded' });
      const before = await snapshot();
      const attempts: [string, Record<string, unknown>][] = [
        [CREATE_PROVIDER, { input: { kind: 'OPENAI', displayName: 'mine' } }],
        [UPDATE_PROVIDER, { input: { id: provider.id, displayName: 'mine', apiKey: '' } }],
        [DELETE_PROVIDER, { id: provider.id }],
        [CREATE_MODEL_CONFIG, { input: { providerId: provider.id, model: 'x', contextLimit: 1 } }],
        [UPDATE_MODEL_CONFIG, { input: { id: config.id, isDefault: true } }],
        [DELETE_MODEL_CONFIG, { id: config.id }],
      ];
      for (const [mutation, variables] of attempts) {
        const { codes } = await member.expectError(mutation, variables);
        expect(codes, mutation).toEqual(['FORBIDDEN']);
      }
      expect(await snapshot()).toEqual(before);
    });
  });
});
