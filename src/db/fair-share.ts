import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from './client.js';

/**
 * Fair-share scheduling (issue #13). Plain FIFO lets one user with 500 queued chats starve
 * everyone else; instead the next slot goes to the user with the fewest RUNNING chats, ties to
 * the oldest PENDING chat. Taking slots one at a time that way is the same as ordering every
 * PENDING chat by `share` = (its owner's RUNNING chats) + (its rank among the owner's PENDING
 * chats, oldest first), then by age: the k-th pending chat of a user with r running chats is what
 * that user would be offered once they hold r + k - 1. So one ORDER BY gives the whole order a
 * sequence of acquires would follow, and the acquire stays one statement.
 */

/** site_configs key of the optional per-user cap on RUNNING root chats (absent: no cap). */
export const MAX_RUNNING_PER_USER_KEY = 'max_running_chats_per_user';

/**
 * PENDING chats with their fair-share rank, as a CTE named `ranked` (id, owner_id, parent_id,
 * created_at, share). Archived chats never run, so they are not ranked.
 */
export const RANKED_PENDING_CTE = Prisma.sql`
  running AS (
    SELECT owner_id, count(*)::int AS running FROM chats
    WHERE status = 'RUNNING' GROUP BY owner_id
  ),
  ranked AS (
    SELECT p.id, p.owner_id, p.parent_id, p.created_at,
           coalesce(r.running, 0)
             + row_number() OVER (PARTITION BY p.owner_id ORDER BY p.created_at, p.id) AS share
    FROM chats p LEFT JOIN running r ON r.owner_id = p.owner_id
    WHERE p.status = 'PENDING' AND p.archived = false
  )`;

/**
 * Whether a ranked chat may start under the per-user cap. Only root chats are capped: a parent
 * stays RUNNING while wait_agent waits for its subagents, so capping those would deadlock it.
 */
export const UNDER_CAP = Prisma.sql`(
  ranked.parent_id IS NOT NULL
  OR ranked.share <= coalesce(
    (SELECT value::int FROM site_configs WHERE key = ${MAX_RUNNING_PER_USER_KEY}), 2147483647))`;

/** The acquire order: fewest running first (share), then oldest pending, then id. */
export const FAIR_SHARE_ORDER = Prisma.sql`ranked.share, ranked.created_at, ranked.id`;

/**
 * How many PENDING chats would be acquired before each of these (0: next), following the
 * acquire order; chats that are not PENDING are absent. Best effort: the cap and new arrivals
 * move it, and it is only as fresh as the read.
 */
export async function queuePositions(
  prisma: PrismaClient,
  chatIds: readonly string[],
): Promise<Map<string, number>> {
  if (chatIds.length === 0) return new Map();
  const rows = await prisma.$queryRaw<{ id: string; position: number }[]>`
    WITH ${RANKED_PENDING_CTE},
    ordered AS (
      SELECT ranked.id, (row_number() OVER (ORDER BY ${FAIR_SHARE_ORDER}) - 1)::int AS position
      FROM ranked
    )
    SELECT id::text AS id, position FROM ordered WHERE id = ANY(${[...chatIds]}::uuid[])`;
  return new Map(rows.map((row) => [row.id, Number(row.position)]));
}

/** queuePositions for a dataloader: one entry per id, null when the chat is not PENDING. */
export async function queuePositionsOf(
  prisma: PrismaClient,
  chatIds: readonly string[],
): Promise<(number | null)[]> {
  const positions = await queuePositions(prisma, chatIds);
  return chatIds.map((id) => positions.get(id) ?? null);
}
