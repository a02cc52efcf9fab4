import type { ChatMessage, QueuedMessage } from '../generated/prisma/client.js';
import type { PrismaClient } from '../db/client.js';
import {
  topics,
  type ChatEventPayload,
  type ChatListEventKindName,
  type ChatStatusName,
  type MessagePayload,
  type PubSub,
  type QueuedMessagePayload,
} from '../pubsub/index.js';
import type { Topic } from '../pubsub/topics.js';
import type { Logger } from '../logger.js';
import { CONTENT_VERSION, readParts } from './parts.js';
import { queuedFileParts } from './transitions.js';

/**
 * Publishing of chat events, after the database write they describe has committed. Used by the
 * chat services and the daemon alike. Pub/sub is at-most-once and subscribers recover from the
 * database, so a publish that fails is logged here, once, with its topic (never the payload,
 * which holds user text), and never reaches the caller: no caller has to remember a `.catch`,
 * and none can turn a committed write into an error.
 */
export function createChatEvents({
  pubsub,
  prisma,
  logger,
}: {
  pubsub: PubSub;
  prisma: PrismaClient;
  logger?: Logger | undefined;
}) {
  const guarded = async (topic: Topic, publish: () => Promise<void>) => {
    try {
      await publish();
    } catch (error) {
      logger?.warn('publish failed', { topic: topic.channel, error });
    }
  };
  const chatEvent = (chatId: string, payload: ChatEventPayload) => {
    const topic = topics.chatEvents(chatId);
    return guarded(topic, () => pubsub.publish(topic, payload));
  };
  const list = (ownerId: string, kind: ChatListEventKindName, chatId: string) => {
    const topic = topics.chatList(ownerId);
    return guarded(topic, () => pubsub.publish(topic, { kind, chatId }));
  };

  return {
    list,
    async message(row: ChatMessage) {
      await chatEvent(row.chatId, {
        __typename: 'MessageEvent',
        chatId: row.chatId,
        message: toMessagePayload(row),
      });
    },
    async status(chat: {
      id: string;
      ownerId: string;
      status: ChatStatusName;
      lastError: string | null;
    }) {
      await chatEvent(chat.id, {
        __typename: 'StatusEvent',
        chatId: chat.id,
        status: chat.status,
        lastError: chat.lastError,
      });
      await list(chat.ownerId, 'STATUS', chat.id);
    },
    async queue(chatId: string) {
      // The queue is read for the event: a failed read is a failed publish like any other.
      const topic = topics.chatEvents(chatId);
      await guarded(topic, async () => {
        const queued = await prisma.queuedMessage.findMany({
          where: { chatId },
          orderBy: [{ position: 'asc' }, { id: 'asc' }],
        });
        await pubsub.publish(topic, {
          __typename: 'QueueEvent',
          chatId,
          queuedMessages: queued.map(toQueuedPayload),
        });
      });
    },
    async title(chat: { id: string; ownerId: string; title: string }) {
      await chatEvent(chat.id, { __typename: 'TitleEvent', chatId: chat.id, title: chat.title });
      await list(chat.ownerId, 'UPDATED', chat.id);
    },
    retry: (chatId: string, retry: { attempt: number; delayMs: number; error: string }) =>
      chatEvent(chatId, { __typename: 'RetryEvent', chatId, ...retry }),
    error: (chatId: string, message: string) =>
      chatEvent(chatId, { __typename: 'ErrorEvent', chatId, message }),
    raw: chatEvent,
  };
}

export type ChatEvents = ReturnType<typeof createChatEvents>;

export function toMessagePayload(row: ChatMessage): MessagePayload {
  const hasUsage = row.role === 'ASSISTANT' || row.modelConfigId !== null;
  return {
    id: row.id.toString(),
    chatId: row.chatId,
    role: row.role,
    parts: readParts(row.contentVersion, row.parts),
    createdById: row.createdById,
    modelConfigId: row.modelConfigId,
    usage: hasUsage
      ? {
          inputTokens: row.inputTokens,
          outputTokens: row.outputTokens,
          reasoningTokens: row.reasoningTokens,
          cacheReadTokens: row.cacheReadTokens,
          cacheWriteTokens: row.cacheWriteTokens,
          costMicros: row.costMicros,
        }
      : null,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toQueuedPayload(row: QueuedMessage): QueuedMessagePayload {
  return {
    id: row.id.toString(),
    text: row.text,
    files: queuedFileParts(row),
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * The row a MessageEvent describes, rebuilt from its payload, so a subscriber delivers it without
 * reading the database (relations the operation selects still load on demand, by id). isSummary
 * is not in the payload: no client-facing field reads it.
 */
export function fromMessagePayload(payload: MessagePayload): ChatMessage {
  const usage = payload.usage;
  return {
    id: BigInt(payload.id),
    chatId: payload.chatId,
    role: payload.role,
    parts: payload.parts as unknown as ChatMessage['parts'],
    contentVersion: CONTENT_VERSION,
    createdById: payload.createdById,
    modelConfigId: payload.modelConfigId,
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    reasoningTokens: usage?.reasoningTokens ?? 0,
    cacheReadTokens: usage?.cacheReadTokens ?? 0,
    cacheWriteTokens: usage?.cacheWriteTokens ?? 0,
    costMicros: usage?.costMicros ?? 0,
    isSummary: false,
    deleted: false,
    createdAt: new Date(payload.createdAt),
  };
}
