import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel } from '../../../src/chats/chat-model.js';
import { DEFAULT_SYSTEM_PROMPT, systemPromptFor } from '../../../src/settings/system-prompt.js';
import { withUserCompactionThreshold } from '../../../src/settings/user-settings.js';
import type { TestClient } from '../../support/client.js';
import { createModelConfig } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/** Deployment and per-user agent settings (issue #13): who may write them, and their checks. */
const SETTINGS_FIELDS = `templateAllowlist workspaceTtlMinutes autoArchiveDays retentionDays
  systemPromptAddition exploreModelConfigId maxRunningChatsPerUser`;
const GET = `{ deploymentSettings { ${SETTINGS_FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateDeploymentSettingsInput!) {
  updateDeploymentSettings(input: $input) { ${SETTINGS_FIELDS} } }`;
const VIEWER_GET = `{ viewerSettings { instructions compactionThresholds { modelConfigId threshold } } }`;
const VIEWER_UPDATE = `mutation ($input: UpdateViewerSettingsInput!) {
  updateViewerSettings(input: $input) {
    instructions compactionThresholds { modelConfigId threshold } } }`;

const DEFAULTS = {
  templateAllowlist: [],
  workspaceTtlMinutes: null,
  autoArchiveDays: null,
  retentionDays: null,
  systemPromptAddition: '',
  exploreModelConfigId: null,
  maxRunningChatsPerUser: null,
};

describe('agent settings', () => {
  let server: TestServer;
  let member: { id: string; client: TestClient };
  let modelConfigId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    member = await server.createMember();
    modelConfigId = (await createModelConfig(server)).modelConfigId;
  });
  afterAll(() => server?.close());

  const settings = async (client: TestClient = server.admin) =>
    (await client.query<{ deploymentSettings: typeof DEFAULTS }>(GET)).deploymentSettings;

  it('has defaults every user can read, and an admin can change and reset', async () => {
    expect(await settings(member.client)).toEqual(DEFAULTS);
    const changed = {
      templateAllowlist: ['python', 'node', 'node'],
      workspaceTtlMinutes: 30,
      autoArchiveDays: 14,
      retentionDays: 90,
      systemPromptAddition: 'Answer in British English.',
      exploreModelConfigId: modelConfigId,
      maxRunningChatsPerUser: 5,
    };
    await server.admin.query(UPDATE, { input: changed });
    expect(await settings(member.client)).toEqual({
      ...changed,
      templateAllowlist: ['node', 'python'],
    });
    // An omitted field stays; null resets.
    await server.admin.query(UPDATE, { input: { retentionDays: null } });
    expect((await settings()).retentionDays).toBeNull();
    expect((await settings()).autoArchiveDays).toBe(14);
    await server.admin.query(UPDATE, {
      input: Object.fromEntries(Object.keys(DEFAULTS).map((key) => [key, null])),
    });
    expect(await settings()).toEqual(DEFAULTS);
  });

  it('forbids members to change them and changes nothing', async () => {
    const { codes } = await member.client.expectError(UPDATE, { input: { autoArchiveDays: 1 } });
    expect(codes).toEqual(['FORBIDDEN']);
    expect(await settings()).toEqual(DEFAULTS);
  });

  const badValues: [string, Record<string, unknown>][] = [
    ['templateAllowlist', { templateAllowlist: ['../etc'] }],
    ['templateAllowlist', { templateAllowlist: [''] }],
    ['templateAllowlist', { templateAllowlist: Array.from({ length: 201 }, (_, i) => `t${i}`) }],
    ['workspaceTtlMinutes', { workspaceTtlMinutes: 0 }],
    ['workspaceTtlMinutes', { workspaceTtlMinutes: -5 }],
    ['workspaceTtlMinutes', { workspaceTtlMinutes: 100_000_000 }],
    ['autoArchiveDays', { autoArchiveDays: 0 }],
    ['autoArchiveDays', { autoArchiveDays: 3_651 }],
    ['retentionDays', { retentionDays: -1 }],
    ['systemPromptAddition', { systemPromptAddition: 'x'.repeat(20_001) }],
    ['exploreModelConfigId', { exploreModelConfigId: 'not-an-id' }],
    ['exploreModelConfigId', { exploreModelConfigId: '00000000-0000-4000-8000-000000000000' }],
    ['maxRunningChatsPerUser', { maxRunningChatsPerUser: 0 }],
    // One bad field refuses the whole update: the good one is not written either.
    ['maxRunningChatsPerUser', { autoArchiveDays: 7, maxRunningChatsPerUser: -1 }],
  ];

  it.each(badValues)(
    'refuses a bad %s with BAD_USER_INPUT and changes nothing',
    async (field, input) => {
      const before = await settings();
      const { errors } = await server.admin.expectError(UPDATE, { input });
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await settings()).toEqual(before);
    },
  );

  it('keeps each user’s own settings, refuses bad values and changes nothing', async () => {
    const other = await server.createMember();
    const set = await member.client.query<{
      updateViewerSettings: { instructions: string; compactionThresholds: unknown[] };
    }>(VIEWER_UPDATE, {
      input: {
        instructions: 'Call me Sam.',
        compactionThresholds: [{ modelConfigId, threshold: 40 }],
      },
    });
    expect(set.updateViewerSettings).toEqual({
      instructions: 'Call me Sam.',
      compactionThresholds: [{ modelConfigId, threshold: 40 }],
    });
    const before = await member.client.query(VIEWER_GET);
    for (const input of [
      { instructions: 'x'.repeat(10_001) },
      { compactionThresholds: [{ modelConfigId, threshold: 101 }] },
      { compactionThresholds: [{ modelConfigId, threshold: -1 }] },
      { compactionThresholds: [{ modelConfigId: 'nope', threshold: 50 }] },
      { instructions: 'ok', compactionThresholds: [{ modelConfigId: 'nope', threshold: 50 }] },
    ]) {
      const { codes } = await member.client.expectError(VIEWER_UPDATE, { input });
      expect(codes).toEqual(['BAD_USER_INPUT']);
      expect(await member.client.query(VIEWER_GET)).toEqual(before);
    }
    // Another user's settings are their own.
    expect(await other.client.query(VIEWER_GET)).toEqual({
      viewerSettings: { instructions: '', compactionThresholds: [] },
    });
    // The user's override wins over the model config's threshold, for that model config only.
    const chatModel = (id: string) =>
      ({ settings: { modelConfigId: id, compressionThreshold: 70 }, model: {} }) as ChatModel;
    const prisma = server.app.deps.prisma;
    expect(
      (await withUserCompactionThreshold(prisma, member.id, chatModel(modelConfigId)))?.settings
        .compressionThreshold,
    ).toBe(40);
    expect(
      (await withUserCompactionThreshold(prisma, other.id, chatModel(modelConfigId)))?.settings
        .compressionThreshold,
    ).toBe(70);
    const otherConfig = (await createModelConfig(server)).modelConfigId;
    expect(
      (await withUserCompactionThreshold(prisma, member.id, chatModel(otherConfig)))?.settings
        .compressionThreshold,
    ).toBe(70);
    // A null threshold removes the override.
    const removed = await member.client.query<{
      updateViewerSettings: { compactionThresholds: unknown[] };
    }>(VIEWER_UPDATE, { input: { compactionThresholds: [{ modelConfigId, threshold: null }] } });
    expect(removed.updateViewerSettings.compactionThresholds).toEqual([]);
  });

  it('builds the prompt from the admin prompt, the addition and the personal instructions', async () => {
    const { sql } = server.app.deps;
    await member.client.query(VIEWER_UPDATE, { input: { instructions: 'Call me Sam.' } });
    await server.admin.query(UPDATE, { input: { systemPromptAddition: 'Use metric units.' } });
    const prompt = await systemPromptFor(sql, member.id);
    expect(prompt.startsWith(DEFAULT_SYSTEM_PROMPT)).toBe(true);
    expect(prompt.indexOf('Use metric units.')).toBeGreaterThan(DEFAULT_SYSTEM_PROMPT.length);
    expect(prompt.indexOf('Call me Sam.')).toBeGreaterThan(prompt.indexOf('Use metric units.'));
    // setSystemPrompt still replaces the base; the addition and the user's text stay.
    await server.admin.query('mutation { setSystemPrompt(prompt: "Be brief.") }');
    const replaced = await systemPromptFor(sql, member.id);
    expect(replaced.startsWith('Be brief.\n\nUse metric units.')).toBe(true);
    expect(replaced).toContain('Call me Sam.');
    expect(replaced).not.toContain(DEFAULT_SYSTEM_PROMPT);
    // Someone else's chats do not get this user's instructions.
    const stranger = await server.createMember();
    expect(await systemPromptFor(sql, stranger.id)).not.toContain('Sam');
    await server.admin.query('mutation { setSystemPrompt(prompt: "") }');
    await server.admin.query(UPDATE, { input: { systemPromptAddition: null } });
  });
});
