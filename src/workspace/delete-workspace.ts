import { createChatEvents } from '../chats/events.js';
import { isUuid } from '../db/ids.js';
import type { Deps, Viewer } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import type { WorkspaceManager } from './service.js';

/** Chats in these states may be using the workspace right now (or will on their next turn). */
const BUSY_STATUSES = ['PENDING', 'RUNNING'] as const;

/**
 * deleteWorkspace: the owner removes a workspace for good. Refused (CONFLICT) while any chat on
 * it is PENDING or RUNNING, so no turn loses its files mid-call. The row goes first, in one
 * statement that re-checks that condition, so a chat that became busy meanwhile keeps it; the
 * chats bound to it keep their messages and are unbound (the foreign key sets workspaceId to
 * null): their next turn runs without a workspace, and create_workspace may make a new one.
 * Then this process's agent stops (its processes die) and the directory is removed.
 */
export function createWorkspaceDeletion(deps: Deps, workspaces: WorkspaceManager) {
  const { prisma, logger } = deps;
  const events = createChatEvents(deps);

  return {
    async deleteWorkspace(viewer: Viewer, id: string): Promise<true> {
      const workspace = isUuid(id)
        ? await prisma.workspace.findFirst({ where: { id, ownerId: viewer.id } })
        : null;
      if (!workspace) throw notFound('Workspace');
      const bound = await prisma.chat.findMany({
        where: { workspaceId: id },
        select: { id: true, ownerId: true },
      });
      const { count } = await prisma.workspace.deleteMany({
        where: {
          id,
          ownerId: viewer.id,
          chats: { none: { status: { in: [...BUSY_STATUSES] } } },
        },
      });
      if (count === 0) {
        const stillThere = await prisma.workspace.count({ where: { id } });
        if (stillThere === 0) throw notFound('Workspace');
        throw conflict(
          'A chat on this workspace is running or about to run; interrupt it, or wait until it ' +
            'is waiting, then delete the workspace',
        );
      }
      await workspaces
        .discard(workspace)
        .catch((error: unknown) =>
          logger.warn('removing a deleted workspace failed', { workspaceId: id, error }),
        );
      // Clients showing those chats learn that Chat.workspace is now null.
      for (const chat of bound) await events.list(chat.ownerId, 'UPDATED', chat.id);
      logger.info('workspace deleted', { workspaceId: id, unboundChats: bound.length });
      return true;
    },
  };
}
