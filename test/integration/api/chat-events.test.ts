import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventStream, TestClient } from '../../support/client.js';
import {
  CHAT_LIST_EVENTS,
  chatListSubscribed,
  createChat,
  createDefaultModel,
  insertMessage,
  setChatStatus,
  subscriptionErrorCodes,
  type ChatListEventData,
} from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { nextCallOf } from '../../support/server-probes.js';
import { reserveMessageId } from '../../../src/db/chat-leases.js';
import { topics } from '../../../src/pubsub/index.js';

const CHAT_EVENTS = `subscription ($chatId: ID!, $afterMessageId: ID) {
  chatEvents(chatId: $chatId, afterMessageId: $afterMessageId) {
    __typename
    ... on StatusEvent { chatId status lastError }
    ... on MessageEvent {
      chatId
      message { id role parts { type ... on TextPart { text } } createdBy { id } usage { costMicros } chat { id } }
    }
    ... on QueueEvent { chatId queuedMessages { id text createdAt } }
    ... on MessagePartEvent { chatId messageId role part { type ... on TextPart { text } } }
    ... on TitleEvent { chatId title }
    ... on ErrorEvent { chatId errorMessage: message }
  } }`;
const SEND = `mutation ($chatId: ID!, $text: String!) {
  sendMessage(input: { chatId: $chatId, text: $text }) {
    message { id } queuedMessage { id } } }`;

type ChatEvent =
  | { __typename: 'StatusEvent'; chatId: string; status: string; lastError: string | null }
  | {
      __typename: 'MessageEvent';
      chatId: string;
      message: {
        id: string;
        role: string;
        parts: { type: string; text?: string }[];
        createdBy: { id: string } | null;
        usage: { costMicros: number } | null;
        chat: { id: string };
      };
    }
  | {
      __typename: 'QueueEvent';
      chatId: string;
      queuedMessages: { id: string; text: string; createdAt: string }[];
    }
  | {
      __typename: 'MessagePartEvent';
      chatId: string;
      messageId: string | null;
      role: string;
      part: { type: string; text?: string };
    }
  | { __typename: 'TitleEvent'; chatId: string; title: string }
  | { __typename: 'ErrorEvent'; chatId: string; errorMessage: string };
interface ChatEventData {
  chatEvents: ChatEvent;
}

const isStatus = (status?: string) => (event: ChatEventData) =>
  event.chatEvents.__typename === 'StatusEvent' &&
  (status === undefined || event.chatEvents.status === status);
const isMessage = (event: ChatEventData) => event.chatEvents.__typename === 'MessageEvent';
const messageOf = (event: ChatEventData) => {
  if (event.chatEvents.__typename !== 'MessageEvent') throw new Error('not a MessageEvent');
  return event.chatEvents.message;
};
const messageIds = (events: ChatEventData[]) =>
  events.filter(isMessage).map((event) => messageOf(event).id);

describe('chat subscriptions (B5, B13, B15, B16, B26)', () => {
  let server: TestServer;
  const streams: EventStream<unknown>[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
  });
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((stream) => stream.close()));
  });
  afterAll(() => server?.close());

  const prisma = () => server.app.deps.prisma;
  const member = () => server.createMember();

  function chatEvents(client: TestClient, chatId: string, afterMessageId?: string | null) {
    const stream = client.subscribe<ChatEventData>(CHAT_EVENTS, {
      chatId,
      ...(afterMessageId !== undefined ? { afterMessageId } : {}),
    });
    streams.push(stream as EventStream<unknown>);
    return stream;
  }
  function listEvents(client: TestClient) {
    const stream = client.subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    streams.push(stream as EventStream<unknown>);
    return stream;
  }
  /** What the daemon does at the end of a turn: write the status, then publish it. */
  async function daemonSetsStatus(chatId: string, status: 'WAITING' | 'RUNNING') {
    const chat = await prisma().chat.update({ where: { id: chatId }, data: { status } });
    await server.app.services.chats.events.status(chat);
  }
  /** What the daemon does after persisting a step: publish its MessageEvent. */
  async function daemonPublishes(messageId: string) {
    await server.app.services.chats.events.message(
      await prisma().chatMessage.findUniqueOrThrow({ where: { id: BigInt(messageId) } }),
    );
  }
  const userMessageId = async (chatId: string) =>
    (
      await prisma().chatMessage.findFirstOrThrow({
        where: { chatId, role: 'USER' },
        orderBy: { id: 'asc' },
      })
    ).id.toString();

  describe('chatEvents snapshot (B13)', () => {
    it('starts with the current status, then every message in order', async () => {
      const { id: ownerId, client } = await member();
      const chat = await createChat(client, { text: 'question' });
      const first = await userMessageId(chat.id);
      const a1 = await insertMessage(server, chat.id, {
        text: 'answer 1',
        tokens: { outputTokens: 5, costMicros: 3 },
      });
      const t1 = await insertMessage(server, chat.id, { role: 'TOOL', text: 'tool output' });
      const a2 = await insertMessage(server, chat.id, { text: 'answer 2' });
      await setChatStatus(server, chat.id, 'WAITING');

      const stream = chatEvents(client, chat.id, null);
      const status = await stream.next();
      expect(status.chatEvents).toEqual({
        __typename: 'StatusEvent',
        chatId: chat.id,
        status: 'WAITING',
        lastError: null,
      });
      const messages = [];
      for (let i = 0; i < 4; i++) messages.push(await stream.next());
      expect(messages.map((event) => event.chatEvents.__typename)).toEqual(
        Array(4).fill('MessageEvent'),
      );
      expect(messageIds(messages)).toEqual([first, a1.id, t1.id, a2.id]);
      expect(messages.map((event) => messageOf(event).role)).toEqual([
        'USER',
        'ASSISTANT',
        'TOOL',
        'ASSISTANT',
      ]);
      expect(messageOf(messages[0]!)).toMatchObject({
        parts: [{ type: 'TEXT', text: 'question' }],
        createdBy: { id: ownerId },
        usage: null,
        chat: { id: chat.id },
      });
      expect(messageOf(messages[1]!)).toMatchObject({ createdBy: null, usage: { costMicros: 3 } });
      expect(messages.every((event) => event.chatEvents.chatId === chat.id)).toBe(true);
    });

    it('reports lastError with an ERROR status and skips soft-deleted messages', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const hidden = await insertMessage(server, chat.id, { text: 'deleted' });
      await prisma().chatMessage.update({
        where: { id: BigInt(hidden.id) },
        data: { deleted: true },
      });
      const kept = await insertMessage(server, chat.id, { text: 'kept' });
      await prisma().chat.update({
        where: { id: chat.id },
        data: { status: 'ERROR', lastError: 'provider said no' },
      });
      const stream = chatEvents(client, chat.id);
      expect((await stream.next()).chatEvents).toMatchObject({
        __typename: 'StatusEvent',
        status: 'ERROR',
        lastError: 'provider said no',
      });
      await stream.next(isMessage);
      const last = await stream.next(isMessage);
      expect(messageOf(last).id).toBe(kept.id);
      expect(messageIds(stream.events)).not.toContain(hidden.id);
    });

    it('sends only the messages after afterMessageId', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const a1 = await insertMessage(server, chat.id, { text: 'one' });
      const a2 = await insertMessage(server, chat.id, { text: 'two' });
      const a3 = await insertMessage(server, chat.id, { text: 'three' });
      const stream = chatEvents(client, chat.id, a1.id);
      expect((await stream.next()).chatEvents).toMatchObject({ status: 'PENDING' });
      expect(messageOf(await stream.next()).id).toBe(a2.id);
      expect(messageOf(await stream.next()).id).toBe(a3.id);

      // After the newest message: the status alone, then live events only.
      const quiet = chatEvents(client, chat.id, a3.id);
      await quiet.next(isStatus('PENDING'));
      await setChatStatus(server, chat.id, 'WAITING');
      const sent = await client.query<{ sendMessage: { message: { id: string } } }>(SEND, {
        chatId: chat.id,
        text: 'live',
      });
      const live = await quiet.next(isMessage);
      expect(messageOf(live).id).toBe(sent.sendMessage.message.id);
      expect(messageIds(quiet.events)).toEqual([sent.sendMessage.message.id]);
    });

    it('rejects a malformed afterMessageId with BAD_USER_INPUT', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const stream = chatEvents(client, chat.id, 'not-a-number');
      expect(subscriptionErrorCodes(await stream.error())).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('chatEvents live (B13, B15)', () => {
    it('delivers a MessageEvent and a StatusEvent PENDING when a message is sent to a WAITING chat', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      await setChatStatus(server, chat.id, 'WAITING');
      const stream = chatEvents(client, chat.id);
      await stream.next(isStatus('WAITING'));
      await stream.next(isMessage);

      const sent = await client.query<{ sendMessage: { message: { id: string } } }>(SEND, {
        chatId: chat.id,
        text: 'follow-up',
      });
      const message = await stream.next(isMessage);
      expect(messageOf(message)).toMatchObject({
        id: sent.sendMessage.message.id,
        role: 'USER',
        parts: [{ type: 'TEXT', text: 'follow-up' }],
      });
      const status = await stream.next(isStatus());
      expect(status.chatEvents).toMatchObject({ chatId: chat.id, status: 'PENDING' });

      await client.query(
        `mutation ($id: ID!) { updateChat(input: { id: $id, title: "Renamed" }) { id } }`,
        { id: chat.id },
      );
      const title = await stream.next((event) => event.chatEvents.__typename === 'TitleEvent');
      expect(title.chatEvents).toEqual({
        __typename: 'TitleEvent',
        chatId: chat.id,
        title: 'Renamed',
      });
    });

    it('delivers QueueEvents as messages are queued, and resumes without duplicates', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const first = chatEvents(client, chat.id);
      await first.next(isStatus('PENDING'));
      await first.next(isMessage);

      const queued = await client.query<{ sendMessage: { queuedMessage: { id: string } } }>(SEND, {
        chatId: chat.id,
        text: 'queued',
      });
      const queueEvent = await first.next((event) => event.chatEvents.__typename === 'QueueEvent');
      expect(queueEvent.chatEvents).toMatchObject({
        queuedMessages: [{ id: queued.sendMessage.queuedMessage.id, text: 'queued' }],
      });
      if (queueEvent.chatEvents.__typename !== 'QueueEvent') throw new Error('not a QueueEvent');
      const createdAt = queueEvent.chatEvents.queuedMessages[0]!.createdAt;
      expect(new Date(createdAt).toISOString()).toBe(createdAt);

      // The "daemon" answers; the subscriber sees the step.
      const answer = await insertMessage(server, chat.id, { text: 'answer' });
      await daemonPublishes(answer.id);
      expect(messageOf(await first.next(isMessage)).id).toBe(answer.id);
      const seenFirst = messageIds(first.events);
      await first.close();

      // A message persisted while nobody listened, then a resubscription from the last seen id.
      const missed = await insertMessage(server, chat.id, { text: 'missed' });
      const second = chatEvents(client, chat.id, answer.id);
      await second.next(isStatus('PENDING'));
      expect(messageOf(await second.next(isMessage)).id).toBe(missed.id);
      await daemonSetsStatus(chat.id, 'WAITING');
      await second.next(isStatus('WAITING'));
      const sent = await client.query<{ sendMessage: { message: { id: string } } }>(SEND, {
        chatId: chat.id,
        text: 'after resume',
      });
      expect(messageOf(await second.next(isMessage)).id).toBe(sent.sendMessage.message.id);
      await second.next(isStatus('PENDING'));
      const seenSecond = messageIds(second.events);
      expect(seenSecond).toEqual([missed.id, sent.sendMessage.message.id]);
      const all = [...seenFirst, ...seenSecond];
      expect(new Set(all).size).toBe(all.length);
    });

    it('misses nothing and repeats nothing while messages arrive during the snapshot', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const produced: string[] = [await userMessageId(chat.id)];
      const produce = (async () => {
        for (let i = 0; i < 30; i++) {
          const message = await insertMessage(server, chat.id, { text: `step ${i}` });
          produced.push(message.id);
          await daemonPublishes(message.id);
        }
      })();
      // Subscribers join at different moments while the "daemon" is writing.
      const subscribers = [];
      for (let i = 0; i < 4; i++) {
        subscribers.push(chatEvents(client, chat.id));
        await subscribers[i]!.next(isStatus());
      }
      await produce;
      const last = produced.at(-1)!;
      for (const stream of subscribers) {
        await stream.waitFor((event) => isMessage(event) && messageOf(event).id === last);
        expect(messageIds(stream.events)).toEqual(produced);
      }
    });

    it('does not repeat a message whose event is published twice', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const stream = chatEvents(client, chat.id);
      await stream.next(isStatus());
      await stream.next(isMessage);
      const answer = await insertMessage(server, chat.id, { text: 'once' });
      await daemonPublishes(answer.id);
      await daemonPublishes(answer.id);
      await stream.next(isMessage);
      // A later event proves the duplicate would have arrived by now.
      await daemonSetsStatus(chat.id, 'WAITING');
      await client.query(SEND, { chatId: chat.id, text: 'next' });
      await stream.next(isStatus('WAITING'));
      await stream.next(isStatus('PENDING'));
      expect(messageIds(stream.events).filter((id) => id === answer.id)).toHaveLength(1);
    });

    it('marks ASSISTANT messages the owner received as read (B26)', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const stream = chatEvents(client, chat.id);
      await stream.next(isMessage);
      const answer = await insertMessage(server, chat.id, { text: 'answer' });
      const hasUnread = async () =>
        (
          await client.query<{ chat: { hasUnread: boolean } }>(
            `query ($id: ID!) { chat(id: $id) { hasUnread } }`,
            { id: chat.id },
          )
        ).chat.hasUnread;
      expect(await hasUnread()).toBe(true);
      // The subscription marks the message read after delivering it: wait for that write.
      const markedRead = nextCallOf(server.app.services.chats, 'markRead');
      await daemonPublishes(answer.id);
      await stream.next((event) => isMessage(event) && messageOf(event).id === answer.id);
      expect((await markedRead).lastReadMessageId?.toString()).toBe(answer.id);
      expect(await hasUnread()).toBe(false);
    });
  });

  describe('chatEvents while a step streams (B13, B14)', () => {
    it('sends the buffered parts after the snapshot, then live parts, each once, until the step is persisted', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      await setChatStatus(server, chat.id, 'RUNNING');
      const { pubsub } = server.app.deps;
      const messageId = (await reserveMessageId(server.app.deps.sql)).toString();
      // The worker's side of a step (src/daemon/run-chat.ts): buffer and publish each part; with
      // buffer = false, only publish (a duplicate or late delivery).
      const streamPart = async (seq: number, text: string, buffer = true) => {
        const event = {
          __typename: 'MessagePartEvent' as const,
          chatId: chat.id,
          messageId,
          role: 'ASSISTANT' as const,
          part: { type: 'TEXT' as const, text },
          seq,
        };
        if (buffer) await pubsub.streamBuffer.publish(chat.id, event);
        else await pubsub.publish(topics.chatEvents(chat.id), event);
      };
      const isPart = (event: ChatEventData) => event.chatEvents.__typename === 'MessagePartEvent';
      const partTexts = (events: ChatEventData[]) =>
        events.filter(isPart).map((event) => {
          if (event.chatEvents.__typename !== 'MessagePartEvent') throw new Error('not a part');
          return event.chatEvents.part.text;
        });

      try {
        await streamPart(0, 'Hel');
        await streamPart(1, 'lo');
        const stream = chatEvents(client, chat.id);
        expect((await stream.next()).chatEvents).toMatchObject({ status: 'RUNNING' });
        expect(messageOf(await stream.next()).role).toBe('USER');
        const buffered = [await stream.next(), await stream.next()];
        expect(buffered.map((event) => event.chatEvents)).toEqual([
          expect.objectContaining({ __typename: 'MessagePartEvent', messageId, role: 'ASSISTANT' }),
          expect.objectContaining({ __typename: 'MessagePartEvent', messageId, role: 'ASSISTANT' }),
        ]);
        expect(partTexts(buffered)).toEqual(['Hel', 'lo']);

        // A part published again (a retry, another replica) is not sent twice; a new one is.
        await streamPart(1, 'lo', false);
        await streamPart(2, ' world');
        await stream.next((event) => isPart(event) && partTexts([event])[0] === ' world');

        // The step is persisted under the reserved id: one MessageEvent, and its parts are final.
        const row = await prisma().chatMessage.create({
          data: {
            id: BigInt(messageId),
            chatId: chat.id,
            role: 'ASSISTANT',
            parts: [{ type: 'TEXT', text: 'Hello world' }],
            contentVersion: 1,
          },
        });
        await server.app.services.chats.events.message(row);
        await pubsub.streamBuffer.clear(chat.id);
        const persisted = await stream.next(isMessage);
        expect(messageOf(persisted)).toMatchObject({
          id: messageId,
          parts: [{ type: 'TEXT', text: 'Hello world' }],
        });
        await streamPart(3, ' (late)', false);
        const done = await prisma().chat.update({
          where: { id: chat.id },
          data: { status: 'WAITING' },
        });
        await server.app.services.chats.events.status(done);
        await stream.next(isStatus('WAITING'));
        expect(partTexts(stream.events)).toEqual(['Hel', 'lo', ' world']);

        // A subscriber joining now gets the persisted message and no parts.
        const late = chatEvents(client, chat.id);
        await late.next(isStatus('WAITING'));
        await late.next(isMessage);
        expect(messageOf(await late.next(isMessage)).id).toBe(messageId);
        expect(partTexts(late.events)).toEqual([]);
      } finally {
        await pubsub.streamBuffer.clear(chat.id);
      }
    });
  });

  describe('chatEvents access (B4, B5)', () => {
    it("answers NOT_FOUND for another member's chat, a malformed id and an unknown id", async () => {
      const owner = await member();
      const chat = await createChat(owner.client);
      const stranger = await member();
      for (const chatId of [chat.id, 'nope', '00000000-0000-4000-8000-000000000000']) {
        const stream = chatEvents(stranger.client, chatId);
        expect(subscriptionErrorCodes(await stream.error()), chatId).toEqual(['NOT_FOUND']);
        expect(stream.events).toEqual([]);
      }
    });

    it('closes the socket with 4403 without connectionParams.authorization or with a bad token', async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const closeCodes = (errors: unknown[]) =>
        errors.map((error) => (error as { code?: number }).code);
      for (const anonymous of [server.anonymous, server.anonymous.withToken('wrong')]) {
        const stream = chatEvents(anonymous, chat.id);
        expect(closeCodes(await stream.error())).toEqual([4403]);
        expect(stream.events).toEqual([]);
        const list = listEvents(anonymous);
        expect(closeCodes(await list.error())).toEqual([4403]);
        expect(list.events).toEqual([]);
      }
    });

    it("lets an admin watch a member's chat without marking it read", async () => {
      const { client } = await member();
      const chat = await createChat(client);
      const answer = await insertMessage(server, chat.id, { text: 'answer' });
      const stream = chatEvents(server.admin, chat.id);
      await stream.next(isStatus('PENDING'));
      expect(messageOf(await stream.next(isMessage)).role).toBe('USER');
      expect(messageOf(await stream.next(isMessage)).id).toBe(answer.id);
      const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
      expect(stored.lastReadMessageId).toBeNull();
    });
  });

  describe('chatListEvents (B16)', () => {
    it('tells the viewer about their own chats: created, status, updated, deleted', async () => {
      const { id, client } = await member();
      const stream = listEvents(client);
      await chatListSubscribed(server, id);

      const chat = await createChat(client, { text: 'watched' });
      const created = await stream.next((event) => event.chatListEvents.chatId === chat.id);
      expect(created.chatListEvents).toEqual({
        kind: 'CREATED',
        chatId: chat.id,
        chat: { id: chat.id, title: 'watched' },
      });

      await setChatStatus(server, chat.id, 'WAITING');
      await client.query(SEND, { chatId: chat.id, text: 'more' });
      const status = await stream.next((event) => event.chatListEvents.chatId === chat.id);
      expect(status.chatListEvents).toMatchObject({ kind: 'STATUS', chat: { id: chat.id } });

      await client.query(`mutation ($id: ID!) { archiveChat(id: $id) { id } }`, { id: chat.id });
      const archived = await stream.next((event) => event.chatListEvents.chatId === chat.id);
      expect(archived.chatListEvents.kind).toBe('UPDATED');

      await client.query(`mutation ($id: ID!) { deleteChat(id: $id) }`, { id: chat.id });
      const deleted = await stream.next((event) => event.chatListEvents.chatId === chat.id);
      expect(deleted.chatListEvents).toEqual({ kind: 'DELETED', chatId: chat.id, chat: null });
    });

    it("never delivers another user's chat events", async () => {
      const alice = await member();
      const bob = await member();
      const stream = listEvents(alice.client);
      await chatListSubscribed(server, alice.id);

      const bobs = await createChat(bob.client, { text: 'bob secret' });
      await bob.client.query(
        `mutation ($id: ID!) { updateChat(input: { id: $id, title: "renamed" }) { id } }`,
        { id: bobs.id },
      );
      await bob.client.query(`mutation ($id: ID!) { deleteChat(id: $id) }`, { id: bobs.id });
      // Admin-created chats are not Alice's either.
      const admins = await createChat(server.admin, { text: 'admin chat' });
      // Alice's own event, published after all of those, arrives; theirs never did.
      const own = await createChat(alice.client, { text: 'alice' });
      await stream.next((event) => event.chatListEvents.chatId === own.id);
      const foreign = stream.events.filter((event) =>
        [bobs.id, admins.id].includes(event.chatListEvents.chatId),
      );
      expect(foreign).toEqual([]);
    });
  });
});
