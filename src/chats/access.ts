import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { isUuid } from '../db/ids.js';
import type { Sql } from '../db/sql.js';
import { isAdmin, type Viewer } from '../deps.js';
import { notFound } from '../errors.js';

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * B5: a member reaches only their own chats; an admin may read every chat but changes only their
 * own. Anything else is NOT_FOUND, exactly like a chat that does not exist.
 *
 * The chat when the viewer may read it, else null: a missing chat and another user's chat look
 * the same. Database failures still throw (an outage must not read as "no such chat").
 */
export async function findChatForRead(db: Db, viewer: Viewer, id: string) {
  const chat = isUuid(id) ? await db.chat.findFirst({ where: { id, deletedAt: null } }) : null;
  return chat && (chat.ownerId === viewer.id || isAdmin(viewer)) ? chat : null;
}

export async function loadChatForRead(db: Db, viewer: Viewer, id: string) {
  const chat = await findChatForRead(db, viewer, id);
  if (!chat) throw notFound('Chat');
  return chat;
}

export async function loadChatForWrite(db: Db, viewer: Viewer, id: string) {
  const chat = isUuid(id) ? await db.chat.findFirst({ where: { id, deletedAt: null } }) : null;
  if (!chat || chat.ownerId !== viewer.id) throw notFound('Chat');
  return chat;
}

/**
 * loadChatForWrite's check without the row, on the driver: sendMessage's hot path (issue #9).
 * The same rule (exists, not deleted, the viewer's own) and the same NOT_FOUND.
 */
export async function assertChatWritable(sql: Sql, viewer: Viewer, id: string): Promise<void> {
  const [chat] = isUuid(id)
    ? await sql.query<{ ownerId: string }>`
        SELECT owner_id::text AS "ownerId" FROM chats WHERE id = ${id}::uuid AND deleted_at IS NULL`
    : [];
  if (!chat || chat.ownerId !== viewer.id) throw notFound('Chat');
}

/** Row-locks the chat for the rest of the transaction: serialises API writes with the daemon. */
export async function lockChat(tx: Prisma.TransactionClient, viewer: Viewer, id: string) {
  if (!isUuid(id)) throw notFound('Chat');
  await tx.$queryRaw`SELECT id FROM chats WHERE id = ${id}::uuid FOR UPDATE`;
  return loadChatForWrite(tx, viewer, id);
}
