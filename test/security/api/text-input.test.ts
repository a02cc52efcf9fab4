import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import type { TestClient } from '../../support/client.js';
import { configureFakeModel, startScriptedLlm } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8 row 10: a NUL or a lone surrogate in any String argument is BAD_USER_INPUT naming the
 * field, over HTTP and WebSocket, and nothing is changed. Before, it was INTERNAL (Postgres
 * refused the row).
 */
const NUL = '\u0000';
const LONE = '\uD800';

describe('security: unstorable text in API input (issue #8, row 10)', () => {
  let server: TestServer;
  let member: TestClient;
  let llm: FakeLlm;

  beforeAll(async () => {
    // No daemon: chats stay PENDING, so the only writes are the API's.
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    llm = await startScriptedLlm();
    await configureFakeModel(server.admin, llm);
    member = (await server.createMember()).client;
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  const chatCount = async () =>
    (
      await member.query<{ chats: { edges: unknown[] } }>(
        '{ chats(first: 100) { edges { cursor } } }',
      )
    ).chats.edges.length;

  async function expectRefused(
    operation: string,
    variables: Record<string, unknown> | undefined,
    field: string,
    client: TestClient = member,
  ) {
    const { errors } = await client.expectError(operation, variables);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }

  it('refuses message text, label keys and values with NUL or a lone surrogate; no chat is made', async () => {
    const before = await chatCount();
    const create = 'mutation ($input: CreateChatInput!) { createChat(input: $input) { id } }';
    await expectRefused(create, { input: { text: `hi${NUL}` } }, 'text');
    await expectRefused(create, { input: { text: `hi ${LONE}` } }, 'text');
    await expectRefused(
      create,
      { input: { text: 'ok', labels: [{ key: 'team', value: `a${LONE}` }] } },
      'value',
    );
    await expectRefused(
      create,
      { input: { text: 'ok', labels: [{ key: `k${NUL}`, value: 'v' }] } },
      'key',
    );
    // A \u0000 escape written into the document itself, not a variable.
    await expectRefused(
      'mutation { createChat(input: { text: "a\\u0000b" }) { id } }',
      undefined,
      'text',
    );
    expect(await chatCount()).toBe(before);
  });

  it('refuses a bad title and search, and leaves the chat as it was', async () => {
    const created = await member.query<{ createChat: { id: string; title: string } }>(
      'mutation { createChat(input: { text: "A clean chat" }) { id title } }',
    );
    const { id, title } = created.createChat;
    await expectRefused(
      'mutation ($input: UpdateChatInput!) { updateChat(input: $input) { id } }',
      { input: { id, title: `evil${NUL}` } },
      'title',
    );
    await expectRefused(
      'query ($search: String) { chats(first: 5, filter: { search: $search }) { edges { cursor } } }',
      { search: `x${LONE}` },
      'search',
    );
    const after = await member.query<{ chat: { title: string } }>(
      'query ($id: ID!) { chat(id: $id) { title } }',
      { id },
    );
    expect(after.chat.title).toBe(title);
  });

  it('refuses a display name (admin input) with a NUL', async () => {
    await expectRefused(
      'mutation ($name: String!) { createProvider(input: { kind: OPENAI_COMPATIBLE, displayName: $name, baseUrl: "http://127.0.0.1:1/v1" }) { id } }',
      { name: `Fake${NUL}` },
      'displayName',
      server.admin,
    );
  });

  it('refuses the same over WebSocket', async () => {
    const stream = member.subscribe(
      'subscription ($chatId: ID!) { chatEvents(chatId: $chatId) { __typename } }',
      { chatId: `x${NUL}` },
    );
    try {
      const errors = (await stream.error()) as { extensions?: Record<string, unknown> }[];
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'chatId' });
    } finally {
      await stream.close();
    }
  });

  it('accepts text with valid surrogate pairs and other control characters', async () => {
    const created = await member.query<{ createChat: { title: string } }>(
      'mutation ($text: String!) { createChat(input: { text: $text }) { title } }',
      { text: 'emoji 😀 and a tab\tand a bell\u0007' },
    );
    expect(created.createChat.title).toContain('😀');
  });
});
