import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../support/client.js';
import {
  CHAT_FIELDS,
  CREATE_CHAT,
  createChat,
  createDefaultModel,
  createModelConfig,
  insertMessage,
  setChatStatus,
  type ChatData,
  type LabelData,
} from '../../support/fixtures.js';
import { createBackendEnv } from '../../support/backend.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { topics, type ChatControlSignal } from '../../../src/pubsub/index.js';

const SEND_MESSAGE = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    chat { id status queuedMessages { id text } }
    message { id role parts { type ... on TextPart { text } } createdBy { id } }
    queuedMessage { id text createdAt }
  } }`;
const EDIT_MESSAGE = `mutation ($input: EditMessageInput!) {
  editMessage(input: $input) { id status } }`;
const UPDATE_CHAT = `mutation ($input: UpdateChatInput!) {
  updateChat(input: $input) { ${CHAT_FIELDS} } }`;
const DELETE_QUEUED = `mutation ($chatId: ID!, $id: ID!) {
  deleteQueuedMessage(chatId: $chatId, id: $id) { id queuedMessages { id text } } }`;
const PROMOTE_QUEUED = `mutation ($chatId: ID!, $id: ID!) {
  promoteQueuedMessage(chatId: $chatId, id: $id) { id status queuedMessages { id text } } }`;
const MARK_READ = `mutation ($id: ID!) { markChatRead(id: $id) { id hasUnread } }`;
const CHAT_DETAIL = `query ($id: ID!) {
  chat(id: $id) {
    ${CHAT_FIELDS}
    queuedMessages { id text }
    messages { edges { node { id role parts { type ... on TextPart { text } } } } }
    usage { inputTokens outputTokens reasoningTokens cacheReadTokens cacheWriteTokens totalTokens costMicros }
  } }`;

interface MessageNode {
  id: string;
  role: string;
  parts: { type: string; text?: string }[];
}
interface ChatDetail extends ChatData {
  queuedMessages: { id: string; text: string }[];
  messages: { edges: { node: MessageNode }[] };
  usage: Record<string, number>;
}
interface SendMessageData {
  sendMessage: {
    chat: { id: string; status: string; queuedMessages: { id: string; text: string }[] };
    message: (MessageNode & { createdBy: { id: string } | null }) | null;
    queuedMessage: { id: string; text: string; createdAt: string } | null;
  };
}

const textOf = (message: MessageNode) => message.parts.map((part) => part.text ?? '').join('');

describe('chats (B5, B6, B8, B11, B12, B24, B26)', () => {
  let server: TestServer;
  let defaultModelId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
  });
  afterAll(() => server?.close());

  const prisma = () => server.app.deps.prisma;
  const member = async () => (await server.createMember()).client;
  const memberWithId = () => server.createMember();

  async function detail(client: TestClient, id: string) {
    return (await client.query<{ chat: ChatDetail | null }>(CHAT_DETAIL, { id })).chat;
  }
  async function send(client: TestClient, chatId: string, text: string, busyBehavior?: string) {
    return (
      await client.query<SendMessageData>(SEND_MESSAGE, {
        input: { chatId, text, ...(busyBehavior ? { busyBehavior } : {}) },
      })
    ).sendMessage;
  }
  const chatCount = (ownerId: string) => prisma().chat.count({ where: { ownerId } });

  /** Listens where a worker would for interrupts of one chat (the daemon is off here). */
  async function watchControl(
    chatId: string,
    onSignal: (signal: ChatControlSignal) => Promise<void> = async () => undefined,
  ) {
    const signals: ChatControlSignal[] = [];
    let wake = () => {};
    const unsubscribe = await server.app.deps.pubsub.subscribe(
      topics.chatControl(chatId),
      (signal) => {
        signals.push(signal);
        wake();
        void onSignal(signal);
      },
    );
    return {
      signals,
      unsubscribe,
      async next(): Promise<ChatControlSignal> {
        while (signals.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        return signals.shift()!;
      },
    };
  }

  describe('with no model config at all', () => {
    it('refuses createChat with BAD_USER_INPUT and creates nothing', async () => {
      const { id, client } = await memberWithId();
      const { errors } = await client.expectError(CREATE_CHAT, { input: { text: 'Hi' } });
      expect(errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'modelConfigId',
      });
      expect(await chatCount(id)).toBe(0);
      expect(await prisma().chatMessage.count()).toBe(0);
    });
  });

  describe('with a default model config', () => {
    beforeAll(async () => {
      defaultModelId = (await createDefaultModel(server)).modelConfigId;
    });

    describe('createChat (B8)', () => {
      it('creates a PENDING chat with the first USER message, an initial title and labels', async () => {
        const { id: ownerId, client } = await memberWithId();
        const text = `  Please   refactor the ${'x'.repeat(80)} module\nthanks`;
        const chat = await createChat(client, {
          text,
          labels: [
            { key: 'team', value: 'core' },
            { key: 'env', value: 'prod' },
          ],
        });
        expect(chat).toMatchObject({
          status: 'PENDING',
          mode: 'DEFAULT',
          archived: false,
          pinOrder: null,
          hasUnread: false,
          owner: { id: ownerId },
          modelConfig: { id: defaultModelId },
        });
        const collapsed = text.replace(/\s+/g, ' ').trim();
        expect(chat.title).toBe(collapsed.slice(0, 60));
        expect([...chat.title]).toHaveLength(60);
        expect(chat.labels).toEqual(
          expect.arrayContaining([
            { key: 'team', value: 'core' },
            { key: 'env', value: 'prod' },
          ]),
        );
        expect(chat.labels).toHaveLength(2);

        const read = await detail(client, chat.id);
        expect(read?.messages.edges.map((edge) => edge.node.role)).toEqual(['USER']);
        expect(textOf(read!.messages.edges[0]!.node)).toBe(text);
        const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
        expect(stored).toMatchObject({ status: 'PENDING', ownerId, modelConfigId: defaultModelId });
      });

      it('keeps a short title whole and counts characters, not UTF-16 units', async () => {
        const client = await member();
        expect((await createChat(client, { text: 'Fix the bug' })).title).toBe('Fix the bug');
        const emoji = '😀'.repeat(70);
        const chat = await createChat(client, { text: emoji, mode: 'PLAN' });
        expect(chat.title).toBe('😀'.repeat(60));
        expect(chat.mode).toBe('PLAN');
      });

      it('uses an explicit model config when given', async () => {
        const client = await member();
        const other = await createModelConfig(server, { model: 'other' });
        const chat = await createChat(client, { modelConfigId: other.modelConfigId });
        expect(chat.modelConfig).toEqual({ id: other.modelConfigId });
      });

      it.each([
        ['an unknown uuid', '00000000-0000-4000-8000-000000000000'],
        ['a malformed id', 'not-an-id'],
      ])('rejects %s as modelConfigId with BAD_USER_INPUT and creates nothing', async (_, id) => {
        const { id: ownerId, client } = await memberWithId();
        const { errors } = await client.expectError(CREATE_CHAT, {
          input: { text: 'Hi', modelConfigId: id },
        });
        expect(errors[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'modelConfigId',
        });
        expect(await chatCount(ownerId)).toBe(0);
      });

      it('rejects a disabled model config', async () => {
        const { id: ownerId, client } = await memberWithId();
        const disabled = await createModelConfig(server, { model: 'disabled' });
        await server.admin.query(
          `mutation ($id: ID!) { updateModelConfig(input: { id: $id, enabled: false }) { id } }`,
          { id: disabled.modelConfigId },
        );
        const { errors } = await client.expectError(CREATE_CHAT, {
          input: { text: 'Hi', modelConfigId: disabled.modelConfigId },
        });
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
        expect(await chatCount(ownerId)).toBe(0);
      });

      it("refuses an unknown or another member's workspace with NOT_FOUND and creates nothing", async () => {
        const { id: ownerId, client } = await memberWithId();
        const other = await memberWithId();
        const theirs = await prisma().workspace.create({
          data: { ownerId: other.id, name: 'theirs', template: 'empty', status: 'RUNNING' },
        });
        for (const workspaceId of [theirs.id, '00000000-0000-4000-8000-000000000000', 'nope']) {
          const { codes } = await client.expectError(CREATE_CHAT, {
            input: { text: 'Hi', workspaceId },
          });
          expect(codes, workspaceId).toEqual(['NOT_FOUND']);
        }
        expect(await chatCount(ownerId)).toBe(0);
        const own = await other.client.query<{ createChat: { workspace: { id: string } | null } }>(
          `mutation ($input: CreateChatInput!) { createChat(input: $input) { workspace { id } } }`,
          { input: { text: 'Hi', workspaceId: theirs.id } },
        );
        expect(own.createChat.workspace).toEqual({ id: theirs.id });
      });

      it.each([
        ['empty', ''],
        ['blank', '  \n\t '],
      ])('rejects %s text with BAD_USER_INPUT on field text', async (_, text) => {
        const { id: ownerId, client } = await memberWithId();
        const { errors } = await client.expectError(CREATE_CHAT, { input: { text } });
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'text' });
        expect(await chatCount(ownerId)).toBe(0);
      });
    });

    describe('labels (B24)', () => {
      const many = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
      const invalid: [string, LabelData[]][] = [
        ['51 labels', many(51)],
        ['a key of 65 characters', [{ key: 'a'.repeat(65), value: 'v' }]],
        ['an empty key', [{ key: '', value: 'v' }]],
        ['a key starting with a dot', [{ key: '.hidden', value: 'v' }]],
        ['a key with a space', [{ key: 'has space', value: 'v' }]],
        ['a key with a colon', [{ key: 'a:b', value: 'v' }]],
        ['a non-ASCII key', [{ key: 'clé', value: 'v' }]],
        ['an empty value', [{ key: 'k', value: '' }]],
        ['a value of 257 characters', [{ key: 'k', value: 'v'.repeat(257) }]],
        ['a value of 257 multi-byte characters', [{ key: 'k', value: '€'.repeat(257) }]],
        [
          'duplicate keys',
          [
            { key: 'dup', value: '1' },
            { key: 'dup', value: '2' },
          ],
        ],
      ];

      it.each(invalid)(
        'createChat with %s is BAD_USER_INPUT and creates no chat',
        async (_, labels) => {
          const { id: ownerId, client } = await memberWithId();
          const { errors } = await client.expectError(CREATE_CHAT, {
            input: { text: 'Hi', labels },
          });
          expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'labels' });
          expect(await chatCount(ownerId)).toBe(0);
        },
      );

      it.each(invalid)(
        'updateChat with %s is BAD_USER_INPUT and leaves labels and title unchanged',
        async (_, labels) => {
          const client = await member();
          const chat = await createChat(client, {
            text: 'Labelled',
            labels: [{ key: 'keep', value: 'me' }],
          });
          const { errors } = await client.expectError(UPDATE_CHAT, {
            input: { id: chat.id, title: 'Renamed', labels },
          });
          expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'labels' });
          const after = await detail(client, chat.id);
          expect(after?.labels).toEqual([{ key: 'keep', value: 'me' }]);
          expect(after?.title).toBe('Labelled');
        },
      );

      it('accepts 50 labels, a 64-character key and a 256-character value', async () => {
        const client = await member();
        const fifty = await createChat(client, { labels: many(50) });
        expect(fifty.labels).toHaveLength(50);
        const edge = await createChat(client, {
          labels: [
            { key: 'k'.repeat(64), value: 'v'.repeat(256) },
            { key: 'a0._/-Z', value: 'x' },
          ],
        });
        expect(edge.labels).toEqual(
          expect.arrayContaining([
            { key: 'k'.repeat(64), value: 'v'.repeat(256) },
            { key: 'a0._/-Z', value: 'x' },
          ]),
        );
      });

      it('counts multi-byte characters as one character each', async () => {
        const client = await member();
        // 256 characters but 512 UTF-16 units and 1024 UTF-8 bytes.
        const value = '😀'.repeat(256);
        const chat = await createChat(client, { labels: [{ key: 'emoji', value }] });
        expect(chat.labels).toEqual([{ key: 'emoji', value }]);
        const euro = '€'.repeat(256);
        const updated = await client.query<{ updateChat: ChatData }>(UPDATE_CHAT, {
          input: { id: chat.id, labels: [{ key: 'euro', value: euro }] },
        });
        expect(updated.updateChat.labels).toEqual([{ key: 'euro', value: euro }]);
      });

      it('updateChat replaces the whole label set; an empty list clears it', async () => {
        const client = await member();
        const chat = await createChat(client, {
          labels: [
            { key: 'a', value: '1' },
            { key: 'b', value: '2' },
          ],
        });
        const replaced = await client.query<{ updateChat: ChatData }>(UPDATE_CHAT, {
          input: {
            id: chat.id,
            labels: [
              { key: 'b', value: '3' },
              { key: 'c', value: '4' },
            ],
          },
        });
        expect(replaced.updateChat.labels).toHaveLength(2);
        expect(replaced.updateChat.labels).toEqual(
          expect.arrayContaining([
            { key: 'b', value: '3' },
            { key: 'c', value: '4' },
          ]),
        );
        const untouched = await client.query<{ updateChat: ChatData }>(UPDATE_CHAT, {
          input: { id: chat.id, title: 'Only the title' },
        });
        expect(untouched.updateChat.labels).toHaveLength(2);
        expect(untouched.updateChat.title).toBe('Only the title');
        const cleared = await client.query<{ updateChat: ChatData }>(UPDATE_CHAT, {
          input: { id: chat.id, labels: [] },
        });
        expect(cleared.updateChat.labels).toEqual([]);
      });
    });

    describe('updateChat', () => {
      it('changes title, mode and model config', async () => {
        const client = await member();
        const chat = await createChat(client);
        const other = await createModelConfig(server, { model: 'switch' });
        const { updateChat } = await client.query<{ updateChat: ChatData }>(UPDATE_CHAT, {
          input: {
            id: chat.id,
            title: '  New   title ',
            mode: 'PLAN',
            modelConfigId: other.modelConfigId,
          },
        });
        expect(updateChat).toMatchObject({
          title: 'New title',
          mode: 'PLAN',
          modelConfig: { id: other.modelConfigId },
        });
      });

      it('rejects an empty title and a bad model config, changing nothing', async () => {
        const client = await member();
        const chat = await createChat(client, { text: 'Original' });
        const empty = await client.expectError(UPDATE_CHAT, {
          input: { id: chat.id, title: '   ', mode: 'PLAN' },
        });
        expect(empty.errors[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'title',
        });
        const badModel = await client.expectError(UPDATE_CHAT, {
          input: {
            id: chat.id,
            title: 'Changed',
            modelConfigId: '00000000-0000-4000-8000-000000000000',
          },
        });
        expect(badModel.errors[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'modelConfigId',
        });
        const after = await detail(client, chat.id);
        expect(after).toMatchObject({
          title: 'Original',
          mode: 'DEFAULT',
          modelConfig: { id: defaultModelId },
        });
      });
    });

    describe('access (B4, B5)', () => {
      const mutations: [
        string,
        string,
        (ids: { chat: string; message: string; queued: string }) => Record<string, unknown>,
      ][] = [
        [
          'sendMessage',
          `mutation ($chatId: ID!) { sendMessage(input: { chatId: $chatId, text: "hi" }) { chat { id } } }`,
          (ids) => ({ chatId: ids.chat }),
        ],
        [
          'editMessage',
          `mutation ($id: ID!) { editMessage(input: { messageId: $id, text: "hi" }) { id } }`,
          (ids) => ({ id: ids.message }),
        ],
        [
          'updateChat',
          `mutation ($id: ID!) { updateChat(input: { id: $id, title: "stolen" }) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'updateChat labels',
          `mutation ($id: ID!) { updateChat(input: { id: $id, labels: [{ key: "x", value: "y" }] }) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'archiveChat',
          `mutation ($id: ID!) { archiveChat(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'unarchiveChat',
          `mutation ($id: ID!) { unarchiveChat(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        ['pinChat', `mutation ($id: ID!) { pinChat(id: $id) { id } }`, (ids) => ({ id: ids.chat })],
        [
          'unpinChat',
          `mutation ($id: ID!) { unpinChat(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'markChatRead',
          `mutation ($id: ID!) { markChatRead(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        ['deleteChat', `mutation ($id: ID!) { deleteChat(id: $id) }`, (ids) => ({ id: ids.chat })],
        [
          'interruptChat',
          `mutation ($id: ID!) { interruptChat(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'regenerateChatTitle',
          `mutation ($id: ID!) { regenerateChatTitle(id: $id) { id } }`,
          (ids) => ({ id: ids.chat }),
        ],
        [
          'deleteQueuedMessage',
          `mutation ($chatId: ID!, $id: ID!) { deleteQueuedMessage(chatId: $chatId, id: $id) { id } }`,
          (ids) => ({ chatId: ids.chat, id: ids.queued }),
        ],
        [
          'promoteQueuedMessage',
          `mutation ($chatId: ID!, $id: ID!) { promoteQueuedMessage(chatId: $chatId, id: $id) { id } }`,
          (ids) => ({ chatId: ids.chat, id: ids.queued }),
        ],
      ];

      /** A member's chat with a message, a queued message and a pin; returns a fingerprint of it. */
      async function victimChat() {
        const owner = await member();
        const chat = await createChat(owner, {
          text: 'Private',
          labels: [{ key: 'a', value: 'b' }],
        });
        await owner.query(`mutation ($id: ID!) { pinChat(id: $id) { id } }`, { id: chat.id });
        const queued = await send(owner, chat.id, 'queued one');
        await insertMessage(server, chat.id, { text: 'reply' });
        const message = await prisma().chatMessage.findFirstOrThrow({
          where: { chatId: chat.id, role: 'USER' },
        });
        const ids = {
          chat: chat.id,
          message: message.id.toString(),
          queued: queued.queuedMessage!.id,
        };
        const fingerprint = async () => ({
          chat: await prisma().chat.findUnique({ where: { id: chat.id } }),
          messages: await prisma().chatMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
          queued: await prisma().queuedMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
        });
        return { owner, ids, fingerprint, before: await fingerprint() };
      }

      it("hides another member's chat: chat(id) is null and chats does not list it", async () => {
        const { ids } = await victimChat();
        const stranger = await member();
        const data = await stranger.query<{ chat: unknown; chats: { edges: unknown[] } }>(
          `query ($id: ID!) { chat(id: $id) { id } chats { edges { node { id } } } }`,
          { id: ids.chat },
        );
        expect(data.chat).toBeNull();
        expect(data.chats.edges).toEqual([]);
        const node = await stranger.query<{ node: unknown }>(
          `query ($id: ID!, $m: ID!) { node(id: $id) { id } m: node(id: $m) { id } }`,
          { id: ids.chat, m: ids.message },
        );
        expect(node).toEqual({ node: null, m: null });
      });

      it("answers every mutation on another member's chat with NOT_FOUND and changes nothing", async () => {
        const { ids, fingerprint, before } = await victimChat();
        const stranger = await member();
        for (const [name, mutation, variables] of mutations) {
          const { codes } = await stranger.expectError(mutation, variables(ids));
          expect(codes, name).toEqual(['NOT_FOUND']);
        }
        expect(await fingerprint()).toEqual(before);
      });

      it('answers NOT_FOUND for malformed and unknown ids', async () => {
        const client = await member();
        const chat = await createChat(client);
        for (const bad of ['nope', '00000000-0000-4000-8000-000000000000', '999999999', '']) {
          const ids = { chat: bad, message: bad, queued: bad };
          for (const [name, mutation, variables] of mutations) {
            const { codes } = await client.expectError(mutation, variables(ids));
            expect(codes, `${name}(${bad})`).toEqual(['NOT_FOUND']);
          }
          const read = await client.query<{ chat: unknown }>(
            `query ($id: ID!) { chat(id: $id) { id } }`,
            { id: bad },
          );
          expect(read.chat).toBeNull();
        }
        // Queued-message ids that do not exist on an existing own chat.
        for (const bad of ['nope', '999999999']) {
          for (const mutation of [DELETE_QUEUED, PROMOTE_QUEUED]) {
            const { codes } = await client.expectError(mutation, { chatId: chat.id, id: bad });
            expect(codes).toEqual(['NOT_FOUND']);
          }
        }
      });

      it("lets an admin read a member's chat but not change it", async () => {
        const { ids, fingerprint, before } = await victimChat();
        const read = await detail(server.admin, ids.chat);
        expect(read?.id).toBe(ids.chat);
        expect(read?.messages.edges.map((edge) => edge.node.role)).toEqual(['USER', 'ASSISTANT']);
        for (const [name, mutation, variables] of mutations) {
          const { codes } = await server.admin.expectError(mutation, variables(ids));
          expect(codes, name).toEqual(['NOT_FOUND']);
        }
        expect(await fingerprint()).toEqual(before);
        // The admin's own list does not include members' chats.
        const list = await server.admin.query<{ chats: { edges: { node: { id: string } }[] } }>(
          '{ chats(first: 100) { edges { node { id } } } }',
        );
        expect(list.chats.edges.map((edge) => edge.node.id)).not.toContain(ids.chat);
      });

      it('requires authentication over HTTP', async () => {
        const { ids } = await victimChat();
        const anonymous = server.anonymous;
        expect((await anonymous.expectError('{ chats { edges { node { id } } } }')).codes).toEqual([
          'UNAUTHENTICATED',
        ]);
        expect(
          (
            await anonymous.expectError(`query ($id: ID!) { chat(id: $id) { id } }`, {
              id: ids.chat,
            })
          ).codes,
        ).toEqual(['UNAUTHENTICATED']);
        const before = await prisma().chat.count();
        expect((await anonymous.expectError(CREATE_CHAT, { input: { text: 'Hi' } })).codes).toEqual(
          ['UNAUTHENTICATED'],
        );
        const wrong = anonymous.withToken('wrong-token');
        expect((await wrong.expectError(CREATE_CHAT, { input: { text: 'Hi' } })).codes).toEqual([
          'UNAUTHENTICATED',
        ]);
        expect(await prisma().chat.count()).toBe(before);
      });
    });

    describe('sendMessage and the queue (B11)', () => {
      it('queues on a PENDING chat, in order, with INTERRUPT at the head', async () => {
        const client = await member();
        const chat = await createChat(client);
        const first = await send(client, chat.id, 'one');
        expect(first.message).toBeNull();
        expect(first.queuedMessage).toMatchObject({ text: 'one' });
        expect(first.chat.status).toBe('PENDING');
        await send(client, chat.id, 'two', 'QUEUE');
        const urgent = await send(client, chat.id, 'urgent', 'INTERRUPT');
        expect(urgent.message).toBeNull();
        expect(urgent.queuedMessage?.text).toBe('urgent');
        const three = await send(client, chat.id, 'three');
        expect(three.chat.queuedMessages.map((q) => q.text)).toEqual([
          'urgent',
          'one',
          'two',
          'three',
        ]);
        const read = await detail(client, chat.id);
        expect(read?.queuedMessages.map((q) => q.text)).toEqual(['urgent', 'one', 'two', 'three']);
        expect(read?.messages.edges).toHaveLength(1);
        expect(read?.status).toBe('PENDING');
      });

      it('queues on a RUNNING chat and asks the worker to run an INTERRUPT message next', async () => {
        const client = await member();
        const chat = await createChat(client);
        await setChatStatus(server, chat.id, 'RUNNING');
        const queued = await send(client, chat.id, 'later');
        expect(queued.queuedMessage?.text).toBe('later');
        expect(
          (await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } })).interruptRequest,
        ).toBeNull();
        const urgent = await send(client, chat.id, 'now', 'INTERRUPT');
        expect(urgent.chat.queuedMessages.map((q) => q.text)).toEqual(['now', 'later']);
        const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
        expect(stored).toMatchObject({ status: 'RUNNING', interruptRequest: 'NEXT' });
      });

      it.each(['WAITING', 'PAUSED', 'ERROR'] as const)(
        'on a %s chat inserts the USER message and sets PENDING',
        async (status) => {
          const { id: userId, client } = await memberWithId();
          const chat = await createChat(client);
          await server.app.deps.prisma.chat.update({
            where: { id: chat.id },
            data: { status, lastError: status === 'ERROR' ? 'boom' : null },
          });
          const result = await send(client, chat.id, 'next question');
          expect(result.queuedMessage).toBeNull();
          expect(result.message).toMatchObject({ role: 'USER', createdBy: { id: userId } });
          expect(textOf(result.message!)).toBe('next question');
          expect(result.chat.status).toBe('PENDING');
          const read = await client.query<{
            chat: { lastError: string | null; messages: { edges: { node: MessageNode }[] } };
          }>(
            `query ($id: ID!) { chat(id: $id) { lastError messages { edges { node { id role parts { type ... on TextPart { text } } } } } } }`,
            { id: chat.id },
          );
          expect(read.chat.lastError).toBeNull();
          expect(read.chat.messages.edges.map((edge) => textOf(edge.node))).toEqual([
            'Hello agent',
            'next question',
          ]);
          expect(read.chat.messages.edges[1]?.node.id).toBe(result.message?.id);
        },
      );

      it('refuses a 21st queued message with CONFLICT', async () => {
        const client = await member();
        const chat = await createChat(client);
        for (let i = 1; i <= 20; i++) await send(client, chat.id, `q${i}`);
        const { codes } = await client.expectError(SEND_MESSAGE, {
          input: { chatId: chat.id, text: 'q21' },
        });
        expect(codes).toEqual(['CONFLICT']);
        const interrupt = await client.expectError(SEND_MESSAGE, {
          input: { chatId: chat.id, text: 'q21', busyBehavior: 'INTERRUPT' },
        });
        expect(interrupt.codes).toEqual(['CONFLICT']);
        const read = await detail(client, chat.id);
        expect(read?.queuedMessages).toHaveLength(20);
        expect(read?.queuedMessages.map((q) => q.text)).toEqual(
          Array.from({ length: 20 }, (_, i) => `q${i + 1}`),
        );
      });

      it('rejects empty text and archived chats, changing nothing', async () => {
        const client = await member();
        const chat = await createChat(client);
        const empty = await client.expectError(SEND_MESSAGE, {
          input: { chatId: chat.id, text: ' ' },
        });
        expect(empty.errors[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'text',
        });
        const tooLong = await client.expectError(SEND_MESSAGE, {
          input: { chatId: chat.id, text: 'x'.repeat(100_001) },
        });
        expect(tooLong.errors[0]?.extensions).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'text',
        });
        await client.query(`mutation ($id: ID!) { archiveChat(id: $id) { id } }`, { id: chat.id });
        const archived = await client.expectError(SEND_MESSAGE, {
          input: { chatId: chat.id, text: 'hi' },
        });
        expect(archived.codes).toEqual(['CONFLICT']);
        expect(await prisma().queuedMessage.count({ where: { chatId: chat.id } })).toBe(0);
        expect(await prisma().chatMessage.count({ where: { chatId: chat.id } })).toBe(1);
      });

      it('deletes a queued message and keeps the order of the rest', async () => {
        const client = await member();
        const chat = await createChat(client);
        const ids: string[] = [];
        for (const text of ['a', 'b', 'c'])
          ids.push((await send(client, chat.id, text)).queuedMessage!.id);
        const { deleteQueuedMessage } = await client.query<{
          deleteQueuedMessage: { queuedMessages: { text: string }[] };
        }>(DELETE_QUEUED, { chatId: chat.id, id: ids[1] });
        expect(deleteQueuedMessage.queuedMessages.map((q) => q.text)).toEqual(['a', 'c']);
        const again = await client.expectError(DELETE_QUEUED, { chatId: chat.id, id: ids[1] });
        expect(again.codes).toEqual(['NOT_FOUND']);
        // A queued message of another chat of the same owner is not found through this chat.
        const otherChat = await createChat(client);
        const wrongChat = await client.expectError(DELETE_QUEUED, {
          chatId: otherChat.id,
          id: ids[0],
        });
        expect(wrongChat.codes).toEqual(['NOT_FOUND']);
        expect((await detail(client, chat.id))?.queuedMessages.map((q) => q.text)).toEqual([
          'a',
          'c',
        ]);
      });

      it('promotes a queued message on a WAITING chat: inserted at once, chat PENDING', async () => {
        const client = await member();
        const chat = await createChat(client);
        const ids: string[] = [];
        for (const text of ['a', 'b', 'c'])
          ids.push((await send(client, chat.id, text)).queuedMessage!.id);
        await setChatStatus(server, chat.id, 'WAITING');
        const { promoteQueuedMessage } = await client.query<{
          promoteQueuedMessage: { status: string; queuedMessages: { text: string }[] };
        }>(PROMOTE_QUEUED, { chatId: chat.id, id: ids[1] });
        expect(promoteQueuedMessage.status).toBe('PENDING');
        expect(promoteQueuedMessage.queuedMessages.map((q) => q.text)).toEqual(['a', 'c']);
        const read = await detail(client, chat.id);
        expect(read?.messages.edges.map((edge) => textOf(edge.node))).toEqual(['Hello agent', 'b']);
      });

      it('promotes a queued message on a PENDING chat to the head of the queue', async () => {
        const client = await member();
        const chat = await createChat(client);
        const ids: string[] = [];
        for (const text of ['a', 'b', 'c'])
          ids.push((await send(client, chat.id, text)).queuedMessage!.id);
        const { promoteQueuedMessage } = await client.query<{
          promoteQueuedMessage: { status: string; queuedMessages: { text: string }[] };
        }>(PROMOTE_QUEUED, { chatId: chat.id, id: ids[2] });
        expect(promoteQueuedMessage.status).toBe('PENDING');
        expect(promoteQueuedMessage.queuedMessages.map((q) => q.text)).toEqual(['c', 'a', 'b']);
        expect(await prisma().chatMessage.count({ where: { chatId: chat.id } })).toBe(1);
        // Later sends still go to the tail; INTERRUPT still goes in front of everything.
        await send(client, chat.id, 'd');
        await send(client, chat.id, 'e', 'INTERRUPT');
        expect((await detail(client, chat.id))?.queuedMessages.map((q) => q.text)).toEqual([
          'e',
          'c',
          'a',
          'b',
          'd',
        ]);
      });
    });

    describe('interruptChat (B11)', () => {
      it('pauses a PENDING chat and leaves a WAITING one alone', async () => {
        const client = await member();
        const pending = await createChat(client);
        const paused = await client.query<{ interruptChat: { status: string } }>(
          `mutation ($id: ID!) { interruptChat(id: $id) { status } }`,
          { id: pending.id },
        );
        expect(paused.interruptChat.status).toBe('PAUSED');
        const waiting = await createChat(client);
        await setChatStatus(server, waiting.id, 'WAITING');
        const untouched = await client.query<{ interruptChat: { status: string } }>(
          `mutation ($id: ID!) { interruptChat(id: $id) { status } }`,
          { id: waiting.id },
        );
        expect(untouched.interruptChat.status).toBe('WAITING');
      });

      it('asks the worker of a RUNNING chat to stop and returns once it has paused', async () => {
        const client = await member();
        const chat = await createChat(client);
        await prisma().chat.update({
          where: { id: chat.id },
          data: { status: 'RUNNING', workerId: 'worker-1', leaseEpoch: 3 },
        });
        let requestSeen: string | null = null;
        // The "worker": persists what it produced, then PAUSED, then announces the status.
        const control = await watchControl(chat.id, async () => {
          requestSeen = (await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } }))
            .interruptRequest;
          const paused = await prisma().chat.update({
            where: { id: chat.id },
            data: { status: 'PAUSED', interruptRequest: null, workerId: null },
          });
          await server.app.services.chats.events.status(paused);
        });
        try {
          const { interruptChat } = await client.query<{ interruptChat: { status: string } }>(
            `mutation ($id: ID!) { interruptChat(id: $id) { status } }`,
            { id: chat.id },
          );
          expect(interruptChat.status).toBe('PAUSED');
          expect(control.signals.concat()).toEqual([{ type: 'interrupt', reason: 'user' }]);
          expect(requestSeen).toBe('PAUSE');
          const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
          expect(stored.leaseEpoch).toBe(3);
        } finally {
          await control.unsubscribe();
        }
      });

      it('fences a RUNNING chat whose worker does not answer, then pauses it', async () => {
        const client = await member();
        const chat = await createChat(client);
        await prisma().chat.update({
          where: { id: chat.id },
          data: { status: 'RUNNING', workerId: 'gone', leaseEpoch: 7 },
        });
        const { interruptChat } = await client.query<{ interruptChat: { status: string } }>(
          `mutation ($id: ID!) { interruptChat(id: $id) { status } }`,
          { id: chat.id },
        );
        expect(interruptChat.status).toBe('PAUSED');
        const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
        expect(stored).toMatchObject({
          status: 'PAUSED',
          workerId: null,
          leaseEpoch: 8,
          interruptRequest: null,
        });
      });

      it('INTERRUPT and promote on a RUNNING chat signal the worker to run the queue head next', async () => {
        const client = await member();
        const chat = await createChat(client);
        await setChatStatus(server, chat.id, 'RUNNING');
        const control = await watchControl(chat.id);
        try {
          const queued = await send(client, chat.id, 'later');
          expect(control.signals).toEqual([]);
          await send(client, chat.id, 'now', 'INTERRUPT');
          expect(await control.next()).toEqual({ type: 'interrupt', reason: 'message' });
          await prisma().chat.update({ where: { id: chat.id }, data: { interruptRequest: null } });
          const { promoteQueuedMessage } = await client.query<{
            promoteQueuedMessage: { status: string; queuedMessages: { text: string }[] };
          }>(PROMOTE_QUEUED, { chatId: chat.id, id: queued.queuedMessage!.id });
          expect(promoteQueuedMessage.status).toBe('RUNNING');
          expect(promoteQueuedMessage.queuedMessages.map((q) => q.text)).toEqual(['later', 'now']);
          expect(await control.next()).toEqual({ type: 'interrupt', reason: 'promote' });
          const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
          expect(stored.interruptRequest).toBe('NEXT');
          expect(await prisma().chatMessage.count({ where: { chatId: chat.id } })).toBe(1);
        } finally {
          await control.unsubscribe();
        }
      });
    });

    describe('editMessage (B12)', () => {
      /** USER, ASSISTANT (with usage), USER, ASSISTANT (with usage); chat WAITING. */
      async function conversation(client: TestClient) {
        const chat = await createChat(client, { text: 'first question' });
        const a1 = await insertMessage(server, chat.id, {
          text: 'first answer',
          tokens: {
            inputTokens: 100,
            outputTokens: 20,
            costMicros: 7,
            modelConfigId: defaultModelId,
          },
        });
        await setChatStatus(server, chat.id, 'WAITING');
        const u2 = (await send(client, chat.id, 'second question')).message!;
        const a2 = await insertMessage(server, chat.id, {
          text: 'second answer',
          tokens: {
            inputTokens: 300,
            outputTokens: 50,
            reasoningTokens: 5,
            cacheReadTokens: 4,
            cacheWriteTokens: 2,
            costMicros: 11.5,
            modelConfigId: defaultModelId,
          },
        });
        await setChatStatus(server, chat.id, 'WAITING');
        const u1 = await prisma().chatMessage.findFirstOrThrow({
          where: { chatId: chat.id, role: 'USER' },
          orderBy: { id: 'asc' },
        });
        return { chat, u1: u1.id.toString(), a1: a1.id, u2: u2.id, a2: a2.id };
      }
      const fullUsage = {
        inputTokens: 400,
        outputTokens: 70,
        reasoningTokens: 5,
        cacheReadTokens: 4,
        cacheWriteTokens: 2,
        totalTokens: 476,
        costMicros: 18.5,
      };

      it('soft-deletes the message and later ones, inserts the new text, sets PENDING and keeps usage', async () => {
        const client = await member();
        const { chat, u2, a2 } = await conversation(client);
        const { editMessage } = await client.query<{ editMessage: { id: string; status: string } }>(
          EDIT_MESSAGE,
          {
            input: { messageId: u2, text: 'second question, edited' },
          },
        );
        expect(editMessage).toEqual({ id: chat.id, status: 'PENDING' });
        const read = await detail(client, chat.id);
        const texts = read?.messages.edges.map((edge) => textOf(edge.node));
        expect(texts).toEqual(['first question', 'first answer', 'second question, edited']);
        const ids = read!.messages.edges.map((edge) => edge.node.id);
        expect(ids).not.toContain(u2);
        expect(ids).not.toContain(a2);
        expect(read?.usage).toEqual(fullUsage);
        const stored = await prisma().chatMessage.findMany({
          where: { chatId: chat.id },
          orderBy: { id: 'asc' },
        });
        expect(stored.map((m) => m.deleted)).toEqual([false, false, true, true, false]);
      });

      it('editing the first message hides the whole conversation but the new text', async () => {
        const client = await member();
        const { chat, u1 } = await conversation(client);
        await client.query(EDIT_MESSAGE, { input: { messageId: u1, text: 'start over' } });
        const read = await detail(client, chat.id);
        expect(read?.messages.edges.map((edge) => textOf(edge.node))).toEqual(['start over']);
        expect(read?.usage).toEqual(fullUsage);
        expect(read?.status).toBe('PENDING');
        // The edited (now deleted) message cannot be edited again.
        const again = await client.expectError(EDIT_MESSAGE, {
          input: { messageId: u1, text: 'x' },
        });
        expect(again.codes).toEqual(['NOT_FOUND']);
      });

      it('editing during a RUNNING turn fences the worker and signals it to stop', async () => {
        const client = await member();
        const { chat, u2 } = await conversation(client);
        await prisma().chat.update({
          where: { id: chat.id },
          data: { status: 'RUNNING', workerId: 'worker-9', leaseEpoch: 4 },
        });
        const control = await watchControl(chat.id);
        try {
          await client.query(EDIT_MESSAGE, { input: { messageId: u2, text: 'changed my mind' } });
          expect(await control.next()).toEqual({ type: 'interrupt', reason: 'edit' });
        } finally {
          await control.unsubscribe();
        }
        const stored = await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } });
        expect(stored).toMatchObject({ status: 'PENDING', workerId: null, leaseEpoch: 5 });
        const read = await detail(client, chat.id);
        expect(read?.messages.edges.map((edge) => textOf(edge.node))).toEqual([
          'first question',
          'first answer',
          'changed my mind',
        ]);
      });

      it("refuses to edit another member's message, an unknown id or in an archived chat", async () => {
        const client = await member();
        const { chat, u2 } = await conversation(client);
        const stranger = await member();
        const theirs = await stranger.expectError(EDIT_MESSAGE, {
          input: { messageId: u2, text: 'x' },
        });
        expect(theirs.codes).toEqual(['NOT_FOUND']);
        for (const id of ['abc', '0', '-1', '999999999999']) {
          const { codes } = await client.expectError(EDIT_MESSAGE, {
            input: { messageId: id, text: 'x' },
          });
          expect(codes, id).toEqual(['NOT_FOUND']);
        }
        await client.query(`mutation ($id: ID!) { archiveChat(id: $id) { id } }`, { id: chat.id });
        const before = await prisma().chatMessage.findMany({
          where: { chatId: chat.id },
          orderBy: { id: 'asc' },
        });
        const archived = await client.expectError(EDIT_MESSAGE, {
          input: { messageId: u2, text: 'x' },
        });
        expect(archived.codes).toEqual(['CONFLICT']);
        expect(
          await prisma().chatMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
        ).toEqual(before);
        expect((await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } })).status).toBe(
          'WAITING',
        );
      });

      it('refuses to edit an ASSISTANT message with BAD_USER_INPUT and changes nothing', async () => {
        const client = await member();
        const { chat, a1 } = await conversation(client);
        const before = await prisma().chatMessage.findMany({
          where: { chatId: chat.id },
          orderBy: { id: 'asc' },
        });
        const { errors } = await client.expectError(EDIT_MESSAGE, {
          input: { messageId: a1, text: 'nope' },
        });
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'messageId' });
        const empty = await client.expectError(EDIT_MESSAGE, {
          input: { messageId: a1, text: '' },
        });
        expect(empty.codes).toEqual(['BAD_USER_INPUT']);
        expect(
          await prisma().chatMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
        ).toEqual(before);
        expect((await detail(client, chat.id))?.status).toBe('WAITING');
      });
    });

    describe('messages connection (B12a)', () => {
      const PAGE = `query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
        chat(id: $id) { messages(first: $first, after: $after, last: $last, before: $before) {
          edges { cursor node { parts { ... on TextPart { text } } } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;
      interface Page {
        chat: {
          messages: {
            edges: { cursor: string; node: { parts: { text: string }[] } }[];
            pageInfo: {
              hasNextPage: boolean;
              hasPreviousPage: boolean;
              startCursor: string;
              endCursor: string;
            };
          };
        };
      }

      it('is chronological and pages forward with first/after and back from the newest with last/before', async () => {
        const client = await member();
        const chat = await createChat(client, { text: 'm1' });
        for (let i = 2; i <= 7; i++) {
          await insertMessage(server, chat.id, {
            role: i % 2 ? 'USER' : 'ASSISTANT',
            text: `m${i}`,
          });
        }
        const page = async (variables: Record<string, unknown>) =>
          (await client.query<Page>(PAGE, { id: chat.id, ...variables })).chat.messages;
        const texts = (p: Page['chat']['messages']) =>
          p.edges.map((edge) => edge.node.parts[0]?.text);

        expect(texts(await page({}))).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);

        const p1 = await page({ first: 3 });
        expect(texts(p1)).toEqual(['m1', 'm2', 'm3']);
        expect(p1.pageInfo.hasNextPage).toBe(true);
        const p2 = await page({ first: 3, after: p1.pageInfo.endCursor });
        expect(texts(p2)).toEqual(['m4', 'm5', 'm6']);
        const p3 = await page({ first: 3, after: p2.pageInfo.endCursor });
        expect(texts(p3)).toEqual(['m7']);
        expect(p3.pageInfo.hasNextPage).toBe(false);

        const newest = await page({ last: 3 });
        expect(texts(newest)).toEqual(['m5', 'm6', 'm7']);
        expect(newest.pageInfo.hasPreviousPage).toBe(true);
        const older = await page({ last: 3, before: newest.pageInfo.startCursor });
        expect(texts(older)).toEqual(['m2', 'm3', 'm4']);
        const oldest = await page({ last: 3, before: older.pageInfo.startCursor });
        expect(texts(oldest)).toEqual(['m1']);
        expect(oldest.pageInfo.hasPreviousPage).toBe(false);
      });
    });

    describe('hasUnread and markChatRead (B26)', () => {
      it('is true after an ASSISTANT message arrives after the last read, false after markChatRead', async () => {
        const client = await member();
        const chat = await createChat(client);
        const unread = async () =>
          (
            await client.query<{ chat: { hasUnread: boolean } }>(
              `query ($id: ID!) { chat(id: $id) { hasUnread } }`,
              {
                id: chat.id,
              },
            )
          ).chat.hasUnread;
        expect(await unread()).toBe(false);
        await insertMessage(server, chat.id, { text: 'answer' });
        expect(await unread()).toBe(true);
        const marked = await client.query<{ markChatRead: { hasUnread: boolean } }>(MARK_READ, {
          id: chat.id,
        });
        expect(marked.markChatRead.hasUnread).toBe(false);
        expect(await unread()).toBe(false);
        // A USER or TOOL message does not make the chat unread; a new ASSISTANT one does.
        await insertMessage(server, chat.id, { role: 'TOOL', text: 'tool output' });
        expect(await unread()).toBe(false);
        await insertMessage(server, chat.id, { text: 'second answer' });
        expect(await unread()).toBe(true);
        // The list shows it too.
        const list = await client.query<{
          chats: { edges: { node: { id: string; hasUnread: boolean } }[] };
        }>('{ chats { edges { node { id hasUnread } } } }');
        expect(list.chats.edges).toEqual([{ node: { id: chat.id, hasUnread: true } }]);
        await client.query(MARK_READ, { id: chat.id });
        expect(await unread()).toBe(false);
      });

      it("an admin reading a member's chat does not mark it read for the member", async () => {
        const client = await member();
        const chat = await createChat(client);
        await insertMessage(server, chat.id, { text: 'answer' });
        const { codes } = await server.admin.expectError(MARK_READ, { id: chat.id });
        expect(codes).toEqual(['NOT_FOUND']);
        expect((await detail(client, chat.id))?.hasUnread).toBe(true);
      });
    });

    describe('usage limits (B28)', () => {
      it('refuses createChat, sendMessage and editMessage past the limit and changes nothing', async () => {
        const { id: userId, client } = await memberWithId();
        const chat = await createChat(client);
        await setChatStatus(server, chat.id, 'WAITING');
        const u1 = await prisma().chatMessage.findFirstOrThrow({ where: { chatId: chat.id } });
        await insertMessage(server, chat.id, { tokens: { outputTokens: 10, costMicros: 20 } });
        await server.admin.query(
          `mutation ($input: SetUsageLimitInput!) { setUsageLimit(input: $input) }`,
          {
            input: { userId, limitMicros: 10, periodDays: 30 },
          },
        );
        const before = {
          chats: await chatCount(userId),
          messages: await prisma().chatMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
        };
        const attempts: [string, Record<string, unknown>][] = [
          [CREATE_CHAT, { input: { text: 'more' } }],
          [SEND_MESSAGE, { input: { chatId: chat.id, text: 'more' } }],
          [EDIT_MESSAGE, { input: { messageId: u1.id.toString(), text: 'more' } }],
        ];
        for (const [operation, variables] of attempts) {
          const { codes } = await client.expectError(operation, variables);
          expect(codes).toEqual(['USAGE_LIMIT_EXCEEDED']);
        }
        expect({
          chats: await chatCount(userId),
          messages: await prisma().chatMessage.findMany({
            where: { chatId: chat.id },
            orderBy: { id: 'asc' },
          }),
        }).toEqual(before);
        expect((await prisma().chat.findUniqueOrThrow({ where: { id: chat.id } })).status).toBe(
          'WAITING',
        );
      });
    });
  });
});

describe('queued messages across a restart (B11)', () => {
  it('keeps the queue and its order when the server restarts', async () => {
    const backendEnv = await createBackendEnv();
    const env = { DAEMON_ENABLED: 'false' };
    let server = await startTestServer({ env, backendEnv });
    try {
      await createDefaultModel(server);
      const { client } = await server.createMember();
      const chat = await createChat(client);
      for (const [text, busyBehavior] of [
        ['one', 'QUEUE'],
        ['two', 'QUEUE'],
        ['first', 'INTERRUPT'],
      ]) {
        await client.query(SEND_MESSAGE, { input: { chatId: chat.id, text, busyBehavior } });
      }
      await server.close();
      server = await startTestServer({ env, backendEnv });
      // Same token, new server (the old client's URL names the old port).
      const again = new TestClient(server.url, client.token);
      const read = await again.query<{
        chat: { status: string; queuedMessages: { text: string }[] };
      }>(`query ($id: ID!) { chat(id: $id) { status queuedMessages { text } } }`, { id: chat.id });
      expect(read.chat.status).toBe('PENDING');
      expect(read.chat.queuedMessages.map((q) => q.text)).toEqual(['first', 'one', 'two']);
    } finally {
      await server.close();
      await backendEnv.cleanup();
    }
  });
});
