import type { PrismaClient } from '../db/client.js';

/**
 * Purges one batch of chats deleted more than `days` ago (issue #13): their message bodies become
 * empty, their queued messages, title and labels go, and their file links (issue #10) too; a file
 * that no other chat links any more is deleted with its bytes. The message rows and their usage
 * columns (tokens, cost, model, time) stay, so insights and usage limits read the same as before.
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
    ),
    unlinked AS (
      DELETE FROM chat_file_links WHERE chat_id IN (SELECT id FROM doomed) RETURNING file_id
    ),
    -- Every CTE sees the links as they were before this statement: a link of a doomed chat
    -- still shows here, so only links of other chats keep a file. An upload never linked to any
    -- chat is not a candidate: it may be about to be sent.
    orphans AS (
      DELETE FROM chat_files f
      WHERE f.id IN (SELECT file_id FROM unlinked)
        AND NOT EXISTS (
          SELECT 1 FROM chat_file_links l
          WHERE l.file_id = f.id AND l.chat_id NOT IN (SELECT id FROM doomed)
        )
      RETURNING 1
    )
    UPDATE chats SET purged_at = now(), title = '', labels = '{}'::jsonb, last_error = NULL
    WHERE id IN (SELECT id FROM doomed)
    RETURNING id::text AS id`;
}
