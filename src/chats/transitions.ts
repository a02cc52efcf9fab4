import { Prisma, type QueuedMessage } from '../generated/prisma/client.js';
import { CONTENT_VERSION, textPart, type FilePart, type MessagePart } from './parts.js';

/**
 * Writes shared by the API and the daemon. Each runs inside the caller's transaction, after the
 * chat row is locked, so a transition is one transaction (see src/daemon/ARCHITECTURE.md).
 */

/** Creates a PENDING chat with its first USER message (createChat, spawn_agent). */
export async function createPendingChat(
  tx: Prisma.TransactionClient,
  chat: Omit<Prisma.ChatUncheckedCreateInput, 'status'>,
  text: string,
  createdById: string,
  /** Parts after the text, e.g. the message's files (issue #10). */
  moreParts: readonly MessagePart[] = [],
) {
  const created = await tx.chat.create({ data: { ...chat, status: 'PENDING' } });
  const message = await tx.chatMessage.create({
    data: {
      chatId: created.id,
      role: 'USER',
      parts: [textPart(text), ...moreParts] as unknown as Prisma.InputJsonValue,
      contentVersion: CONTENT_VERSION,
      createdById,
    },
  });
  return { chat: created, message };
}

/** Inserts a USER message and makes the chat PENDING for the daemon (B8, B11). */
export async function insertUserMessageAndSetPending(
  tx: Prisma.TransactionClient,
  chatId: string,
  text: string,
  createdById: string | null,
  /** Parts after the text, e.g. the message's files (issue #10). */
  moreParts: readonly MessagePart[] = [],
) {
  const message = await tx.chatMessage.create({
    data: {
      chatId,
      role: 'USER',
      parts: [textPart(text), ...moreParts] as unknown as Prisma.InputJsonValue,
      contentVersion: CONTENT_VERSION,
      createdById,
    },
  });
  const chat = await tx.chat.update({
    where: { id: chatId },
    data: {
      status: 'PENDING',
      lastError: null,
      interruptRequest: null,
      lastActivityAt: new Date(),
      // Any USER message answers a pending ask_user_question (B20).
      pendingQuestion: Prisma.DbNull,
    },
  });
  return { message, chat };
}

/** The FileParts a queued message carries (issue #10); stored as a JSON array. */
export function queuedFileParts(queued: Pick<QueuedMessage, 'files'>): FilePart[] {
  return Array.isArray(queued.files) ? (queued.files as unknown as FilePart[]) : [];
}

/** Runs a queued message: inserts it as a USER message, with its files, and sets PENDING. */
export function insertQueuedMessageAndSetPending(
  tx: Prisma.TransactionClient,
  chatId: string,
  queued: Pick<QueuedMessage, 'text' | 'createdById' | 'files'>,
) {
  return insertUserMessageAndSetPending(
    tx,
    chatId,
    queued.text,
    queued.createdById,
    queuedFileParts(queued),
  );
}

/** Removes and returns the head of a chat's queue (lowest position), or null. */
export async function popQueuedMessage(tx: Prisma.TransactionClient, chatId: string) {
  const head = await tx.queuedMessage.findFirst({
    where: { chatId },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
  });
  if (!head) return null;
  await tx.queuedMessage.delete({ where: { id: head.id } });
  return head;
}

/** Queue positions: append at the tail, or go to the head (INTERRUPT, promote). */
export async function queuePosition(
  tx: Prisma.TransactionClient,
  chatId: string,
  where: 'head' | 'tail',
): Promise<number> {
  const aggregate = await tx.queuedMessage.aggregate({
    where: { chatId },
    _min: { position: true },
    _max: { position: true },
  });
  return where === 'head' ? (aggregate._min.position ?? 1) - 1 : (aggregate._max.position ?? 0) + 1;
}
