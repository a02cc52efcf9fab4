import { queryFromInfo } from '@pothos/plugin-prisma';
import { findChatForRead } from '../../chats/access.js';
import {
  hasUnreadByChat,
  queuedMessagesOf,
  usageByChat,
  type UnreadKey,
} from '../../chats/aggregates.js';
import { effectiveModelConfigs } from '../../chats/chat-model.js';
import { labelsToList } from '../../chats/labels.js';
import { queuePositionsOf } from '../../db/fair-share.js';
import { encodeChatCursor, listChatIds } from '../../chats/list.js';
import { builder } from '../builder.js';
import { chatMutationField, hasSelection, type ChatArgBuilder } from './chat-mutation.js';
import { QueuedMessageType } from './messages.js';
import { ModelConfigType } from './providers.js';
import { NodeInterface, registerNodeLoader } from './node.js';
import { UsageType } from './usage.js';
import type { ChatMessage } from '../../generated/prisma/client.js';

export const ChatStatusEnum = builder.enumType('ChatStatus', {
  values: {
    PENDING: { description: 'Waiting for a worker to pick it up.' },
    RUNNING: { description: 'A worker is running the agent loop.' },
    WAITING: { description: 'The last turn finished; waiting for the user.' },
    PAUSED: { description: 'Interrupted by the user.' },
    ERROR: { description: 'The last turn failed; see lastError.' },
  } as const,
});

export const ChatModeEnum = builder.enumType('ChatMode', {
  values: {
    DEFAULT: { description: 'All tools allowed.' },
    PLAN: {
      description:
        'Explore and plan: read-only tools, execute, the plan file, ask_user_question and propose_plan.',
    },
  } as const,
});

export const LabelType = builder.objectRef<{ key: string; value: string }>('Label').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const LabelInput = builder.inputType('LabelInput', {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

export const ChatType = builder.prismaObject('Chat', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    owner: t.relation('owner'),
    title: t.exposeString('title'),
    status: t.expose('status', { type: ChatStatusEnum }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'Set when status is ERROR; cleared when the chat runs again.',
    }),
    mode: t.expose('mode', { type: ChatModeEnum }),
    modelConfig: t.loadable({
      type: ModelConfigType,
      nullable: true,
      description:
        "The model config the chat's next turn runs with: the one it was created or switched " +
        'with while that is enabled, else the default config (a deleted or disabled config ' +
        'falls back to it); null when no config is usable.',
      // '' for a chat without a config of its own: a loader key must be a value.
      resolve: (chat) => chat.modelConfigId ?? '',
      load: (ids: string[], ctx) =>
        effectiveModelConfigs(
          ctx.prisma,
          ids.map((id) => id || null),
        ),
    }),
    labels: t.field({ type: [LabelType], resolve: (chat) => labelsToList(chat.labels) }),
    archived: t.exposeBoolean('archived'),
    pinOrder: t.exposeInt('pinOrder', {
      nullable: true,
      description: 'Position among pinned chats (1-based), null when not pinned.',
    }),
    hasUnread: t.loadable({
      type: 'Boolean',
      resolve: (chat): UnreadKey => ({ id: chat.id, lastReadMessageId: chat.lastReadMessageId }),
      loaderOptions: { cacheKeyFn: (key: UnreadKey) => key.id },
      load: (chats: UnreadKey[], ctx) => hasUnreadByChat(ctx.prisma, chats),
    }),
    parent: t.relation('parent', { nullable: true }),
    root: t.relation('root', { nullable: true }),
    children: t.relation('children', {
      query: { where: { deletedAt: null }, orderBy: { createdAt: 'asc' } },
    }),
    workspace: t.relation('workspace', { nullable: true }),
    messages: t.relatedConnection(
      'messages',
      {
        cursor: 'id',
        description: 'Chronological (oldest first); last/before page back from the newest.',
        query: () => ({ where: { deleted: false }, orderBy: { id: 'asc' } }),
      },
      { name: 'ChatMessageConnection' },
      { name: 'ChatMessageEdge' },
    ),
    queuedMessages: t.loadableGroup({
      type: QueuedMessageType,
      resolve: (chat) => chat.id,
      group: (queued) => queued.chatId ?? '',
      load: (chatIds: string[], ctx) => queuedMessagesOf(ctx.prisma, chatIds),
    }),
    usage: t.loadable({
      type: UsageType,
      description: 'Sum over all messages of this chat, deleted ones included.',
      resolve: (chat) => chat.id,
      load: (chatIds: string[], ctx) => usageByChat(ctx.prisma, chatIds),
    }),
    queuePosition: t.loadable({
      type: 'Int',
      nullable: true,
      description:
        'While PENDING: how many chats will be acquired before this one under fair-share ' +
        'scheduling (0: next). Null otherwise. Best effort: new chats and the cap move it.',
      resolve: (chat) => (chat.status === 'PENDING' ? chat.id : null),
      load: (chatIds: string[], ctx) => queuePositionsOf(ctx.prisma, chatIds),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

registerNodeLoader('Chat', async (ctx, id) => findChatForRead(ctx.prisma, ctx.viewer, id));

const ChatFilterInput = builder.inputType('ChatFilter', {
  fields: (t) => ({
    archived: t.boolean({ description: 'Default false: only unarchived chats.' }),
    labels: t.field({ type: [LabelInput], description: 'Every label must match (AND).' }),
    status: t.field({ type: [ChatStatusEnum] }),
    search: t.string({ description: 'Case-insensitive substring of the title.' }),
  }),
});

const ChatConnection = builder.connectionObject({ type: ChatType, name: 'ChatConnection' });

builder.queryFields((t) => ({
  chat: t.prismaField({
    type: 'Chat',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const nested = hasSelection(query);
      const chat = await findChatForRead(ctx.prisma, ctx.viewer, id);
      if (!chat || !nested) return chat;
      return ctx.prisma.chat.findUnique({ ...query, where: { id: chat.id } });
    },
  }),
  chats: t.field({
    type: ChatConnection,
    description: "The viewer's root chats: pinned first by pinOrder, then newest activity first.",
    args: {
      first: t.arg.int(),
      after: t.arg.string(),
      filter: t.arg({ type: ChatFilterInput }),
    },
    resolve: async (_root, args, ctx, info) => {
      const { ids, hasNextPage } = await listChatIds(ctx.prisma, ctx.viewer, args);
      const query = queryFromInfo({
        context: ctx,
        info,
        typeName: 'Chat',
        path: ['edges', 'node'],
      });
      const rows = await ctx.prisma.chat.findMany({ ...query, where: { id: { in: ids } } });
      const byId = new Map(rows.map((row) => [row.id, row]));
      const edges = ids.flatMap((id) => {
        const node = byId.get(id);
        return node ? [{ cursor: encodeChatCursor(node), node }] : [];
      });
      return {
        edges,
        pageInfo: {
          hasNextPage,
          hasPreviousPage: Boolean(args.after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
}));

const BusyBehaviorEnum = builder.enumType('BusyBehavior', {
  values: {
    QUEUE: { description: 'Queue the message until the current turn ends (default).' },
    INTERRUPT: {
      description: 'Stop the current turn, keep what it produced, then run this message.',
    },
  } as const,
});

const MCP_SERVER_IDS_DESCRIPTION =
  'The MCP servers the chat uses (issue #12); null or absent: no change. FORCE_ON servers always apply; DEFAULT_ON ones unless left out.';

const CreateChatInput = builder.inputType('CreateChatInput', {
  fields: (t) => ({
    text: t.string({ required: true }),
    fileIds: t.idList({ description: 'Uploaded files (uploadFile) the first message carries.' }),
    modelConfigId: t.id(),
    labels: t.field({ type: [LabelInput] }),
    mode: t.field({ type: ChatModeEnum }),
    workspaceId: t.id(),
    mcpServerIds: t.idList({ description: MCP_SERVER_IDS_DESCRIPTION }),
  }),
});

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    text: t.string({ required: true }),
    fileIds: t.idList({
      description:
        'Uploaded files (uploadFile) the message carries; a queued message keeps them until it runs.',
    }),
    busyBehavior: t.field({ type: BusyBehaviorEnum }),
    mcpServerIds: t.idList({ description: MCP_SERVER_IDS_DESCRIPTION }),
  }),
});

const EditMessageInput = builder.inputType('EditMessageInput', {
  fields: (t) => ({
    messageId: t.id({ required: true }),
    text: t.string({ required: true }),
    fileIds: t.idList({
      description:
        "Uploaded files (uploadFile) the edited message carries; null or absent keeps the original message's files, [] drops them.",
    }),
  }),
});

const UpdateChatInput = builder.inputType('UpdateChatInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    title: t.string(),
    labels: t.field({ type: [LabelInput], description: 'Replaces the whole label set.' }),
    modelConfigId: t.id(),
    mode: t.field({ type: ChatModeEnum }),
    mcpServerIds: t.idList({ description: MCP_SERVER_IDS_DESCRIPTION }),
  }),
});

interface SendMessageResult {
  chat: { id: string };
  message: ChatMessage | null;
  queuedMessage: { id: bigint; text: string; files: unknown; createdAt: Date } | null;
}

const SendMessagePayload = builder.objectRef<SendMessageResult>('SendMessagePayload').implement({
  fields: (t) => ({
    chat: t.prismaField({
      type: 'Chat',
      resolve: (query, payload, _args, ctx) =>
        ctx.prisma.chat.findUniqueOrThrow({ ...query, where: { id: payload.chat.id } }),
    }),
    message: t.prismaField({
      type: 'ChatMessage',
      nullable: true,
      description: 'Set when the message was inserted at once.',
      resolve: (query, payload, _args, ctx) => {
        const nested = hasSelection(query);
        if (!payload.message || !nested) return payload.message;
        return ctx.prisma.chatMessage.findUnique({ ...query, where: { id: payload.message.id } });
      },
    }),
    queuedMessage: t.field({
      type: QueuedMessageType,
      nullable: true,
      description: 'Set when the message was queued behind a running turn.',
      resolve: (payload) => payload.queuedMessage,
    }),
  }),
});

builder.mutationField('sendMessage', (t) =>
  t.field({
    type: SendMessagePayload,
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.chats.sendMessage(ctx.viewer, input),
  }),
);

builder.mutationField('deleteChat', (t) =>
  t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.chats.deleteChat(ctx.viewer, id),
  }),
);

const idArg = (arg: ChatArgBuilder) => ({ id: arg.id({ required: true }) });
const queuedMessageArgs = (arg: ChatArgBuilder) => ({
  chatId: arg.id({ required: true }),
  id: arg.id({ required: true }),
});

chatMutationField('createChat', {
  args: (arg) => ({ input: arg({ type: CreateChatInput, required: true }) }),
  run: ({ input }, ctx) => ctx.services.chats.createChat(ctx.viewer, input),
});
chatMutationField('editMessage', {
  description:
    'Soft-deletes the message and every later one, inserts the new text, and runs again.',
  args: (arg) => ({ input: arg({ type: EditMessageInput, required: true }) }),
  run: ({ input }, ctx) => ctx.services.chats.editMessage(ctx.viewer, input),
});
chatMutationField('interruptChat', {
  args: idArg,
  run: ({ id }, ctx) => ctx.services.chats.interruptChat(ctx.viewer, id),
});
chatMutationField('deleteQueuedMessage', {
  args: queuedMessageArgs,
  run: (args, ctx) => ctx.services.chats.deleteQueuedMessage(ctx.viewer, args.chatId, args.id),
});
chatMutationField('promoteQueuedMessage', {
  description: 'Interrupts the running turn and runs this queued message next.',
  args: queuedMessageArgs,
  run: (args, ctx) => ctx.services.chats.promoteQueuedMessage(ctx.viewer, args.chatId, args.id),
});
chatMutationField('updateChat', {
  args: (arg) => ({ input: arg({ type: UpdateChatInput, required: true }) }),
  run: ({ input }, ctx) => ctx.services.chats.updateChat(ctx.viewer, input),
});
chatMutationField('archiveChat', {
  description: 'Archiving a root chat archives its subagent chats too.',
  args: idArg,
  run: ({ id }, ctx) => ctx.services.chats.setArchived(ctx.viewer, id, true),
});
chatMutationField('unarchiveChat', {
  args: idArg,
  run: ({ id }, ctx) => ctx.services.chats.setArchived(ctx.viewer, id, false),
});
chatMutationField('pinChat', {
  args: (arg) => ({ ...idArg(arg), pinOrder: arg.int() }),
  run: (args, ctx) => ctx.services.chats.pinChat(ctx.viewer, args.id, args.pinOrder),
});
chatMutationField('unpinChat', {
  args: idArg,
  run: ({ id }, ctx) => ctx.services.chats.unpinChat(ctx.viewer, id),
});
chatMutationField('markChatRead', {
  args: idArg,
  run: ({ id }, ctx) => ctx.services.chats.markChatRead(ctx.viewer, id),
});
chatMutationField('regenerateChatTitle', {
  args: idArg,
  run: ({ id }, ctx) => ctx.services.titles.regenerate(ctx.viewer, id),
});
