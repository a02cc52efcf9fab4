import type { PrismaClient } from '../db/client.js';

/** One archived chat, for the list event its owner's clients get. */
export interface ArchivedChat {
  id: string;
  ownerId: string;
}

/**
 * Archives one batch of inactive chat families (issue #13): root chats whose own last activity
 * and every descendant's is older than `days`, none of them pinned, PENDING or RUNNING. The root
 * and its subagent chats are archived together, in one statement. Idempotent: an archived family
 * is no longer a candidate. SKIP LOCKED leaves a family a user is changing right now for later.
 */
export async function archiveInactiveBatch(
  prisma: PrismaClient,
  days: number,
  batchSize: number,
): Promise<ArchivedChat[]> {
  return prisma.$queryRaw<ArchivedChat[]>`
    WITH cutoff AS (SELECT now() - ${days} * interval '1 day' AS at),
    roots AS (
      SELECT r.id FROM chats r, cutoff
      WHERE r.parent_id IS NULL AND r.archived = false AND r.deleted_at IS NULL
        AND r.pin_order IS NULL AND r.status NOT IN ('PENDING', 'RUNNING')
        AND r.last_activity_at < cutoff.at
        AND NOT EXISTS (
          SELECT 1 FROM chats d
          WHERE d.root_id = r.id AND d.deleted_at IS NULL
            AND (d.last_activity_at >= cutoff.at OR d.pin_order IS NOT NULL
                 OR d.status IN ('PENDING', 'RUNNING'))
        )
      ORDER BY r.last_activity_at
      LIMIT ${batchSize}
      FOR UPDATE OF r SKIP LOCKED
    )
    UPDATE chats SET archived = true, pin_order = NULL, updated_at = now()
    WHERE (id IN (SELECT id FROM roots) OR root_id IN (SELECT id FROM roots))
      AND archived = false AND deleted_at IS NULL
    RETURNING id::text AS id, owner_id::text AS "ownerId"`;
}
