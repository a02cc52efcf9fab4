import { loadChatForRead } from '../../chats/access.js';
import { streamChatEvents, type StreamedChatEvent } from '../../chats/stream.js';
import { queuePositionsOf } from '../../db/fair-share.js';
import { parseBigIntId } from '../../db/ids.js';
import { badInput } from '../../errors.js';
import type { ChatListEventKindName, QueuedMessagePayload } from '../../pubsub/index.js';
import { topics } from '../../pubsub/index.js';
import { subscribeIterator } from '../../pubsub/subscribe-iterator.js';
import type { MessagePart } from '../../chats/parts.js';
import { builder } from '../builder.js';
import { ChatStatusEnum } from './chats.js';
import { PlanEventType, QuestionEventType } from './plan-mode.js';
import {
  ChatMessageType,
  MessagePartInterface,
  MessageRoleEnum,
  QueuedMessageType,
} from './messages.js';

type EventOf<Name extends StreamedChatEvent['__typename']> = Extract<
  StreamedChatEvent,
  { __typename: Name }
>;

const MessagePartEventType = builder
  .objectRef<EventOf<'MessagePartEvent'>>('MessagePartEvent')
  .implement({
    fields: (t) => ({
      chatId: t.exposeID('chatId'),
      messageId: t.exposeID('messageId', {
        nullable: true,
        description: 'Id of the message these parts will be persisted as, once the step ends.',
      }),
      role: t.expose('role', { type: MessageRoleEnum }),
      part: t.field({ type: MessagePartInterface, resolve: (event): MessagePart => event.part }),
    }),
  });

const MessageEventType = builder.objectRef<EventOf<'MessageEvent'>>('MessageEvent').implement({
  fields: (t) => ({
    chatId: t.exposeID('chatId'),
    // The stream already read the row; relations the operation selects load on demand.
    message: t.field({ type: ChatMessageType, resolve: (event) => event.message }),
  }),
});

const StatusEventType = builder.objectRef<EventOf<'StatusEvent'>>('StatusEvent').implement({
  fields: (t) => ({
    chatId: t.exposeID('chatId'),
    status: t.expose('status', { type: ChatStatusEnum }),
    lastError: t.exposeString('lastError', { nullable: true }),
    queuePosition: t.loadable({
      type: 'Int',
      nullable: true,
      description: 'While PENDING: see Chat.queuePosition, read when the event is delivered.',
      resolve: (event) => (event.status === 'PENDING' ? event.chatId : null),
      load: (chatIds: string[], ctx) => queuePositionsOf(ctx.prisma, chatIds),
    }),
  }),
});

const QueueEventType = builder.objectRef<EventOf<'QueueEvent'>>('QueueEvent').implement({
  fields: (t) => ({
    chatId: t.exposeID('chatId'),
    queuedMessages: t.field({
      type: [QueuedMessageType],
      resolve: (event): QueuedMessagePayload[] => event.queuedMessages,
    }),
  }),
});

const RetryEventType = builder.objectRef<EventOf<'RetryEvent'>>('RetryEvent').implement({
  fields: (t) => ({
    chatId: t.exposeID('chatId'),
    attempt: t.exposeInt('attempt'),
    delayMs: t.exposeInt('delayMs'),
    error: t.exposeString('error'),
  }),
});

const TitleEventType = builder.objectRef<EventOf<'TitleEvent'>>('TitleEvent').implement({
  fields: (t) => ({ chatId: t.exposeID('chatId'), title: t.exposeString('title') }),
});

const ErrorEventType = builder.objectRef<EventOf<'ErrorEvent'>>('ErrorEvent').implement({
  fields: (t) => ({ chatId: t.exposeID('chatId'), message: t.exposeString('message') }),
});

const EVENT_TYPES = {
  MessagePartEvent: MessagePartEventType,
  MessageEvent: MessageEventType,
  StatusEvent: StatusEventType,
  QueueEvent: QueueEventType,
  RetryEvent: RetryEventType,
  TitleEvent: TitleEventType,
  ErrorEvent: ErrorEventType,
  QuestionEvent: QuestionEventType,
  PlanEvent: PlanEventType,
} as const;

const ChatEventUnion = builder.unionType('ChatEvent', {
  types: Object.values(EVENT_TYPES),
  resolveType: (event: StreamedChatEvent) => EVENT_TYPES[event.__typename],
});

const ChatListEventKindEnum = builder.enumType('ChatListEventKind', {
  values: ['CREATED', 'UPDATED', 'STATUS', 'DELETED'] as const,
});

interface ChatListEventShape {
  kind: ChatListEventKindName;
  chatId: string;
  chat: { id: string } | null;
}

const ChatListEventType = builder.objectRef<ChatListEventShape>('ChatListEvent').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: ChatListEventKindEnum }),
    chatId: t.exposeID('chatId'),
    chat: t.prismaField({
      type: 'Chat',
      nullable: true,
      resolve: (query, event, _args, ctx) =>
        event.chat ? ctx.prisma.chat.findUnique({ ...query, where: { id: event.chat.id } }) : null,
    }),
  }),
});

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  chatEvents: t.field({
    type: ChatEventUnion,
    description: "See BEHAVIOUR.md, 'Streaming'.",
    args: { chatId: t.arg.id({ required: true }), afterMessageId: t.arg.id() },
    subscribe: async (_root, args, ctx) => {
      const chat = await loadChatForRead(ctx.prisma, ctx.viewer, args.chatId);
      let afterMessageId: bigint | null = null;
      if (args.afterMessageId) {
        afterMessageId = parseBigIntId(args.afterMessageId);
        if (afterMessageId === null) throw badInput('afterMessageId', 'Invalid message id');
      }
      const isOwner = chat.ownerId === ctx.viewer.id;
      return streamChatEvents({
        prisma: ctx.prisma,
        pubsub: ctx.pubsub,
        chatId: chat.id,
        afterMessageId,
        onAssistantMessage: isOwner
          ? (message) =>
              void ctx.services.chats.markRead(chat.id, message.id).catch(() => undefined)
          : undefined,
      });
    },
    resolve: (event: StreamedChatEvent) => event,
  }),
  chatListEvents: t.field({
    type: ChatListEventType,
    description: "Changes to the viewer's chats (title, status, labels, archive, delete).",
    subscribe: (_root, _args, ctx) =>
      subscribeIterator(ctx.pubsub, topics.chatList(ctx.viewer.id), {
        toItem: (event): ChatListEventShape => ({
          kind: event.kind,
          chatId: event.chatId,
          chat: event.kind === 'DELETED' ? null : { id: event.chatId },
        }),
      }),
    resolve: (event: ChatListEventShape) => event,
  }),
}));
