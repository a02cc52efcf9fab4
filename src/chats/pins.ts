import type { PrismaClient } from '../db/client.js';
import type { Viewer } from '../deps.js';
import { badInput } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { lockChat } from './access.js';
import type { ChatEvents } from './events.js';

/** What the chat service's pin, archive and delete operations share with it. */
export interface ChatWriteContext {
  prisma: PrismaClient;
  events: ChatEvents;
  /** Runs a publish after commit; a failure is logged, never thrown. */
  publish(what: string, work: () => Promise<unknown>): Promise<unknown>;
  /** Asks the worker running the chat to stop its turn. */
  signalInterrupt(chatId: string, reason: 'user'): Promise<unknown>;
}

/** Pinning of root chats (B25): one owner's pins are numbered 1..n without gaps. */
export function createPinOperations({ prisma, events, publish }: ChatWriteContext) {
  return {
    /** Pins among the owner's pinned root chats, 1-based; null appends at the end (B25). */
    async pinChat(viewer: Viewer, chatId: string, pinOrder?: number | null) {
      if (pinOrder !== undefined && pinOrder !== null && pinOrder < 1) {
        throw badInput('pinOrder', 'pinOrder must be 1 or more');
      }
      const chat = await prisma.$transaction(async (tx) => {
        await lockPins(tx, viewer.id);
        const locked = await lockChat(tx, viewer, chatId);
        if (locked.archived) throw badInput('id', 'Archived chats cannot be pinned');
        if (locked.parentId) throw badInput('id', 'Only root chats can be pinned');
        const pinned = (await pinnedChats(tx, viewer.id)).filter((id) => id !== locked.id);
        const index = Math.min((pinOrder ?? pinned.length + 1) - 1, pinned.length);
        pinned.splice(index, 0, locked.id);
        await writePins(tx, pinned);
        return tx.chat.findUniqueOrThrow({ where: { id: locked.id } });
      });
      await publish('chat pinned', () => events.list(viewer.id, 'UPDATED', chat.id));
      return chat;
    },

    async unpinChat(viewer: Viewer, chatId: string) {
      const chat = await prisma.$transaction(async (tx) => {
        await lockPins(tx, viewer.id);
        const locked = await lockChat(tx, viewer, chatId);
        if (locked.pinOrder === null) return locked;
        await tx.chat.update({ where: { id: locked.id }, data: { pinOrder: null } });
        await compactPins(tx, viewer.id);
        return tx.chat.findUniqueOrThrow({ where: { id: locked.id } });
      });
      await publish('chat unpinned', () => events.list(viewer.id, 'UPDATED', chat.id));
      return chat;
    },
  };
}

/**
 * Serialises changes to one owner's pin order (pin, unpin, archive, delete): each reads the pinned
 * set and renumbers it, so two at once would hand out the same pinOrder. Taken before any chat row
 * lock (writePins updates other chats' rows). NO KEY UPDATE leaves FK checks (createChat) alone.
 */
export async function lockPins(tx: Prisma.TransactionClient, ownerId: string) {
  await tx.$queryRaw`SELECT id FROM users WHERE id = ${ownerId}::uuid FOR NO KEY UPDATE`;
}

async function pinnedChats(tx: Prisma.TransactionClient, ownerId: string) {
  const rows = await tx.chat.findMany({
    where: { ownerId, pinOrder: { not: null }, archived: false, parentId: null, deletedAt: null },
    orderBy: [{ pinOrder: 'asc' }, { id: 'asc' }],
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

async function writePins(tx: Prisma.TransactionClient, orderedIds: string[]) {
  for (const [index, id] of orderedIds.entries()) {
    await tx.chat.update({ where: { id }, data: { pinOrder: index + 1 } });
  }
}

/** Renumbers pins 1..n after one was removed. */
export async function compactPins(tx: Prisma.TransactionClient, ownerId: string) {
  await writePins(tx, await pinnedChats(tx, ownerId));
}
