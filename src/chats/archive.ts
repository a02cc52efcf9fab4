import type { Viewer } from '../deps.js';
import { conflict } from '../errors.js';
import { loadChatForWrite, lockChat } from './access.js';
import { compactPins, lockPins, type ChatWriteContext } from './pins.js';

/** Archiving and deleting a chat family: a root with its subagent chats (B19). */
export function createArchiveOperations({
  prisma,
  events,
  publish,
  signalInterrupt,
}: ChatWriteContext) {
  return {
    /** Archiving a root archives its subagent chats too (B19), and stops what they run. */
    async setArchived(viewer: Viewer, chatId: string, archived: boolean) {
      const chat = await loadChatForWrite(prisma, viewer, chatId);
      const family = {
        OR: [{ id: chat.id }, { rootId: chat.id }],
        ownerId: viewer.id,
        deletedAt: null,
      };
      if (!archived && chat.parentId) {
        const parent = await prisma.chat.findUnique({ where: { id: chat.parentId } });
        if (parent?.archived) throw conflict('Unarchive the parent chat first');
      }
      const affected = await prisma.$transaction(async (tx) => {
        if (archived) await lockPins(tx, viewer.id);
        const rows = await tx.chat.findMany({ where: family, select: { id: true, status: true } });
        await tx.chat.updateMany({
          where: family,
          data: archived ? { archived: true, pinOrder: null } : { archived: false },
        });
        if (archived) {
          await tx.chat.updateMany({
            where: { ...family, status: 'RUNNING' },
            data: { interruptRequest: 'PAUSE' },
          });
          await tx.chat.updateMany({
            where: { ...family, status: 'PENDING' },
            data: { status: 'PAUSED' },
          });
          await compactPins(tx, viewer.id);
        }
        return rows;
      });
      for (const row of affected) {
        if (archived && row.status === 'RUNNING') await signalInterrupt(row.id, 'user');
        await publish('chat archived', () => events.list(viewer.id, 'UPDATED', row.id));
      }
      return prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
    },

    async deleteChat(viewer: Viewer, chatId: string) {
      const chat = await loadChatForWrite(prisma, viewer, chatId);
      const family = await prisma.$transaction(async (tx) => {
        if (chat.pinOrder !== null) await lockPins(tx, viewer.id);
        await lockChat(tx, viewer, chat.id);
        // Read under the lock, in the transaction: every statement below acts on the same family,
        // and a child spawned before it gets its DELETED event and loses its queue too.
        const members = await tx.chat.findMany({
          where: { OR: [{ id: chat.id }, { rootId: chat.id }], deletedAt: null },
          select: { id: true, status: true },
        });
        const familyWhere = { id: { in: members.map((row) => row.id) } };
        // A soft delete: the messages stay, so their cost still counts (B27, B28). A running
        // turn is fenced (new lease) so nothing it writes lands.
        await tx.chat.updateMany({
          where: { ...familyWhere, status: { in: ['RUNNING', 'PENDING'] } },
          data: { status: 'PAUSED' },
        });
        await tx.chat.updateMany({
          where: familyWhere,
          data: {
            deletedAt: new Date(),
            pinOrder: null,
            workerId: null,
            leaseEpoch: { increment: 1 },
            interruptRequest: null,
          },
        });
        await tx.queuedMessage.deleteMany({
          where: { chatId: { in: members.map((row) => row.id) } },
        });
        if (chat.pinOrder !== null) await compactPins(tx, viewer.id);
        return members;
      });
      for (const row of family) {
        if (row.status === 'RUNNING') await signalInterrupt(row.id, 'user');
        await publish('chat deleted', () => events.list(viewer.id, 'DELETED', row.id));
      }
      return true;
    },
  };
}
