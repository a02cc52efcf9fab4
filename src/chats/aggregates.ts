import type { PrismaClient } from '../db/client.js';
import type { QueuedMessage } from '../generated/prisma/client.js';
import type { UsagePayload } from '../pubsub/payloads.js';

/**
 * Per-chat figures for a whole page of chats at once: one query per figure, whatever the page
 * size (the GraphQL Chat type loads them through dataloaders, so `chats(first: 50)` selecting
 * hasUnread, queuedMessages and usage costs three queries, not 150).
 */

export interface UnreadKey {
  id: string;
  lastReadMessageId: bigint | null;
}

/** For each chat, whether an assistant message newer than the chat's read marker exists. */
export async function hasUnreadByChat(
  prisma: PrismaClient,
  chats: readonly UnreadKey[],
): Promise<boolean[]> {
  const ids = chats.map((chat) => chat.id);
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT c.id::text AS id FROM chats c
    WHERE c.id = ANY(${ids}::uuid[]) AND EXISTS (
      SELECT 1 FROM chat_messages m
      WHERE m.chat_id = c.id AND m.role = 'ASSISTANT' AND NOT m.deleted
        AND (c.last_read_message_id IS NULL OR m.id > c.last_read_message_id))`;
  const unread = new Set(rows.map((row) => row.id));
  return chats.map((chat) => unread.has(chat.id));
}

const ZERO_USAGE: UsagePayload = {
  inputTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicros: 0,
};

/** Usage summed over every message of each chat, deleted ones included. */
export async function usageByChat(
  prisma: PrismaClient,
  chatIds: readonly string[],
): Promise<UsagePayload[]> {
  const groups = await prisma.chatMessage.groupBy({
    by: ['chatId'],
    where: { chatId: { in: [...chatIds] } },
    _sum: {
      inputTokens: true,
      outputTokens: true,
      reasoningTokens: true,
      cacheReadTokens: true,
      cacheWriteTokens: true,
      costMicros: true,
    },
  });
  const byChat = new Map(
    groups.map(({ chatId, _sum }) => [
      chatId,
      {
        inputTokens: _sum.inputTokens ?? 0,
        outputTokens: _sum.outputTokens ?? 0,
        reasoningTokens: _sum.reasoningTokens ?? 0,
        cacheReadTokens: _sum.cacheReadTokens ?? 0,
        cacheWriteTokens: _sum.cacheWriteTokens ?? 0,
        costMicros: _sum.costMicros ?? 0,
      },
    ]),
  );
  return chatIds.map((id) => byChat.get(id) ?? ZERO_USAGE);
}

/** Queued messages of the given chats, in queue order (group them by chatId). */
export function queuedMessagesOf(
  prisma: PrismaClient,
  chatIds: readonly string[],
): Promise<QueuedMessage[]> {
  return prisma.queuedMessage.findMany({
    where: { chatId: { in: [...chatIds] } },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
  });
}
