import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { configureFakeModel } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/** No turn runs here (no daemon): the configs only need a provider URL. */
const unreachableLlm = { baseUrl: 'http://127.0.0.1:9/v1' } as FakeLlm;

const CREATE_CHAT = `mutation ($modelConfigId: ID) {
  createChat(input: { text: "Hi", modelConfigId: $modelConfigId }) { id modelConfig { id } }
}`;
const CHAT = `query ($id: ID!) { chat(id: $id) { modelConfig { id } } }`;
const DELETE_MODEL_CONFIG = `mutation ($id: ID!) { deleteModelConfig(id: $id) }`;

describe('Chat.modelConfig shows the config the next turn runs with (issue #14)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
  });
  afterAll(() => server?.close());

  it("falls back to the default once the chat's own config is deleted, null without any", async () => {
    const fallback = await configureFakeModel(server.admin, unreachableLlm, { isDefault: true });
    const chosen = await configureFakeModel(server.admin, unreachableLlm, { isDefault: false });
    const member = await server.createMember();
    const created = await member.client.query<{
      createChat: { id: string; modelConfig: { id: string } | null };
    }>(CREATE_CHAT, { modelConfigId: chosen.modelConfigId });
    expect(created.createChat.modelConfig).toEqual({ id: chosen.modelConfigId });
    const chatId = created.createChat.id;
    const shown = async () =>
      (
        await member.client.query<{ chat: { modelConfig: { id: string } | null } }>(CHAT, {
          id: chatId,
        })
      ).chat.modelConfig;

    await server.admin.query(DELETE_MODEL_CONFIG, { id: chosen.modelConfigId });
    expect(await shown()).toEqual({ id: fallback.modelConfigId });

    await server.admin.query(DELETE_MODEL_CONFIG, { id: fallback.modelConfigId });
    expect(await shown()).toBeNull();
  });
});
