import type { PrismaClient } from '../db/client.js';

/**
 * Purges one batch of chats deleted more than `days` ago (issue #13): their message bodies become
 * empty, their queued messages, title and labels go. The message rows and their usage columns
 * (tokens, cost, model, time) stay, so insights and usage limits read the same as before.
 * Idempotent: purged_at marks a purged chat. Returns the purged chats.
 */
export async function purgeDeletedBatch(
  prisma: PrismaClient,
  days: number,
  batchSize: number,
): Promise<{ id: string }[]> {
  return prisma.$queryRaw<{ id: string }[]>`
    WITH doomed AS (
      SELECT id FROM chats
      WHERE deleted_at < now() - ${days} * interval '1 day' AND purged_at IS NULL
      ORDER BY deleted_at
      LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED
    ),
    bodies AS (
      UPDATE chat_messages SET parts = '[]'::jsonb
      WHERE chat_id IN (SELECT id FROM doomed)
      RETURNING 1
    ),
    queued AS (
      DELETE FROM queued_messages WHERE chat_id IN (SELECT id FROM doomed) RETURNING 1
    )
    UPDATE chats SET purged_at = now(), title = '', labels = '{}'::jsonb, last_error = NULL
    WHERE id IN (SELECT id FROM doomed)
    RETURNING id::text AS id`;
}
