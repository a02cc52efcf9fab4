import type { PrismaClient } from '../db/client.js';

/**
 * Marks workspaces idle for longer than `minutes` STOPPED (issue #13) and returns them: RUNNING
 * ones, and FAILED ones (a failed startup script leaves the agent serving its files). A workspace whose chat is running a turn right now is left alone (the model may be thinking
 * between tool calls). The caller ends their agents; start_workspace brings one back.
 */
export async function stopIdleWorkspaces(
  prisma: PrismaClient,
  minutes: number,
  batchSize: number,
): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    UPDATE workspaces SET status = 'STOPPED', updated_at = now()
    WHERE id IN (
      SELECT w.id FROM workspaces w
      WHERE w.status IN ('RUNNING', 'FAILED')
        AND w.last_activity_at < now() - ${minutes} * interval '1 minute'
        AND NOT EXISTS (
          SELECT 1 FROM chats c WHERE c.workspace_id = w.id AND c.status = 'RUNNING'
        )
      ORDER BY w.last_activity_at
      LIMIT ${batchSize}
      FOR UPDATE OF w SKIP LOCKED
    )
    RETURNING id::text AS id`;
  return rows.map((row) => row.id);
}
