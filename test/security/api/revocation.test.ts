import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../src/pubsub/index.js';
import type { EventStream, TestClient } from '../../support/client.js';
import {
  CHAT_LIST_EVENTS,
  chatListSubscribed,
  createChat,
  createDefaultModel,
  type ChatListEventData,
} from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, row 8: `revokeApiToken` while a socket streams used to leave the socket streaming
 * (96 more events in 5 s, and list events for a chat created after the revocation): the token was
 * checked only when an operation started. Now the revocation closes the token's sockets (4403)
 * before the mutation returns, so nothing produced after it reaches them.
 */

interface PartEventData {
  chatEvents: { __typename: string; part?: { text?: string } };
}
const CHAT_EVENTS = `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) {
  __typename ... on MessagePartEvent { part { ... on TextPart { text } } } } }`;

const closeCodes = (errors: unknown[]) => errors.map((error) => (error as { code?: number }).code);
const texts = (stream: EventStream<PartEventData>) =>
  stream.events.map((event) => event.chatEvents.part?.text).filter(Boolean);

describe('revocation ends access at once (issue #8, row 8)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());

  /** A member with two tokens: `streaming` holds the sockets, `other` stays valid. */
  async function memberWithTwoTokens() {
    const { id, client: streaming } = await server.createMember();
    const created = await streaming.query<{
      createApiToken: { token: string; apiToken: { id: string } };
    }>('mutation { createApiToken(name: "second") { token apiToken { id } } }');
    const other = streaming.withToken(created.createApiToken.token);
    const tokens = await other.query<{ apiTokens: { id: string; name: string }[] }>(
      '{ apiTokens { id name } }',
    );
    const streamingTokenId = tokens.apiTokens.find((token) => token.name === 'test')!.id;
    return { id, streaming, other, streamingTokenId };
  }

  const publishPart = (chatId: string, text: string, seq: number) =>
    server.app.deps.pubsub.publish(topics.chatEvents(chatId), {
      __typename: 'MessagePartEvent',
      chatId,
      messageId: null,
      role: 'ASSISTANT',
      part: { type: 'TEXT', text },
      seq,
    });

  async function openStreams(client: TestClient, userId: string, chatId: string) {
    const events = client.subscribe<PartEventData>(CHAT_EVENTS, { chatId });
    await events.next((event) => event.chatEvents.__typename === 'StatusEvent');
    const list = client.subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    await chatListSubscribed(server, userId);
    return { events, list };
  }

  for (const revoker of ['the member (another token)', 'an admin'] as const) {
    it(`closes the token's sockets with 4403 before revokeApiToken by ${revoker} returns`, async () => {
      const { id, streaming, other, streamingTokenId } = await memberWithTwoTokens();
      const chat = await createChat(other);
      const { events, list } = await openStreams(streaming, id, chat.id);
      // A socket of the member's other token must live on.
      const bystander = other.subscribe<PartEventData>(CHAT_EVENTS, { chatId: chat.id });
      await bystander.next((event) => event.chatEvents.__typename === 'StatusEvent');
      try {
        await publishPart(chat.id, 'before', 0);
        await events.waitFor((event) => event.chatEvents.part?.text === 'before');

        const revokerClient = revoker === 'an admin' ? server.admin : other;
        const revoked = await revokerClient.query<{ revokeApiToken: boolean }>(
          'mutation ($id: ID!) { revokeApiToken(id: $id) }',
          { id: streamingTokenId },
        );
        expect(revoked.revokeApiToken).toBe(true);

        // Produced after the mutation returned: a part on the chat and a new chat in the list.
        await publishPart(chat.id, 'after', 1);
        const afterChat = await createChat(other);

        expect(closeCodes(await events.error())).toEqual([4403]);
        expect(closeCodes(await list.error())).toEqual([4403]);
        expect(texts(events)).toEqual(['before']);
        expect(list.events.map((event) => event.chatListEvents.chatId)).not.toContain(afterChat.id);

        // The other token's socket saw both parts: only the revoked token lost access.
        await bystander.waitFor((event) => event.chatEvents.part?.text === 'after');
        expect(texts(bystander)).toEqual(['before', 'after']);

        // And the revoked token opens nothing new.
        const again = streaming.subscribe<PartEventData>(CHAT_EVENTS, { chatId: chat.id });
        expect(closeCodes(await again.error())).toEqual([4403]);
        expect((await streaming.expectError('{ viewer { id } }')).codes).toEqual([
          'UNAUTHENTICATED',
        ]);
      } finally {
        await Promise.all([events.close(), list.close(), bystander.close()]);
      }
    });
  }

  it('delivers nothing after the revocation while the chat streams continuously', async () => {
    const { id, streaming, other, streamingTokenId } = await memberWithTwoTokens();
    const chat = await createChat(other);
    const { events, list } = await openStreams(streaming, id, chat.id);
    try {
      // A producer that never stops during the revocation, like a running turn.
      let seq = 0;
      let producing = true;
      const producer = (async () => {
        while (producing) {
          await publishPart(chat.id, `part ${seq}`, seq++);
          // Yield to I/O between parts (in-process pub/sub delivers synchronously).
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await events.waitFor((event) => event.chatEvents.part?.text === 'part 10');
      await other.query('mutation ($id: ID!) { revokeApiToken(id: $id) }', {
        id: streamingTokenId,
      });
      const revokedAt = seq; // every part from here on was published after the mutation returned
      expect(closeCodes(await events.error())).toEqual([4403]);
      producing = false;
      await producer;
      const delivered = texts(events).map((text) => Number(String(text).split(' ')[1]));
      expect(Math.max(...delivered)).toBeLessThan(revokedAt);
    } finally {
      await Promise.all([events.close(), list.close()]);
    }
  });
});
