import { parseBigIntId } from '../db/ids.js';
import type { Deps, Viewer } from '../deps.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { WorkspaceAgentError, type WorkspaceAgentClient } from '../workspace/agent-client.js';
import type { GitChangesService } from '../workspace/git-changes-service.js';
import { WorkspaceError, type WorkspaceManager } from '../workspace/service.js';
import { loadChatForWrite, lockChat } from './access.js';
import { createChatEvents } from './events.js';

/** Checkpoints kept per chat; older ones are deleted when a new one is taken. */
export const MAX_CHECKPOINTS_PER_CHAT = 50;
/** Longest a checkpoint or a restore may take on the agent. */
const CHECKPOINT_TIMEOUT_MS = 60_000;
/** The rewind transaction holds the chat's row lock while the agent restores the files. */
const REWIND_TRANSACTION_TIMEOUT_MS = CHECKPOINT_TIMEOUT_MS + 5_000;

/**
 * Checkpoints and undo (issue #11). Before every turn the daemon records the workspace's files,
 * keyed by the USER message that started the turn; rewindChat takes the chat back to before that
 * message: the conversation as editMessage rewinds it, and the files as they were.
 */
export function createRewindService(
  deps: Deps,
  resources: { workspaces: WorkspaceManager; gitChanges: GitChangesService },
) {
  const { prisma, logger } = deps;
  const { workspaces, gitChanges } = resources;
  const events = createChatEvents(deps);

  return {
    /**
     * Called by the daemon as a turn starts: a checkpoint for the chat's newest USER message,
     * unless it has one (a turn resumed after a restart). Never fails the turn.
     */
    async beforeTurn(chat: {
      id: string;
      rootId: string | null;
      /** As acquired: a chat without a workspace has nothing to checkpoint (no statement). */
      workspaceId: string | null;
    }): Promise<void> {
      if (chat.workspaceId === null) return;
      try {
        const message = await prisma.chatMessage.findFirst({
          where: { chatId: chat.id, role: 'USER', deleted: false },
          orderBy: { id: 'desc' },
          select: { id: true },
        });
        if (!message) return;
        const existing = await prisma.chatCheckpoint.findUnique({
          where: { chatId_messageId: { chatId: chat.id, messageId: message.id } },
          select: { id: true },
        });
        if (existing) return;
        const workspace = await workspaces.workspaceForChat(chat.id);
        if (!workspace || workspace.status === 'STOPPED') return;
        const client = await workspaces.clientFor(workspace.id);
        const taken = await client.createCheckpoint({
          signal: AbortSignal.timeout(CHECKPOINT_TIMEOUT_MS),
        });
        await prisma.chatCheckpoint.createMany({
          data: [
            {
              chatId: chat.id,
              messageId: message.id,
              workspaceId: workspace.id,
              commit: taken.commit,
              skipped: taken.skipped,
            },
          ],
          skipDuplicates: true,
        });
        const old = await prisma.chatCheckpoint.findMany({
          where: { chatId: chat.id },
          orderBy: { id: 'desc' },
          skip: MAX_CHECKPOINTS_PER_CHAT,
          select: { id: true },
        });
        if (old.length > 0) {
          await prisma.chatCheckpoint.deleteMany({
            where: { id: { in: old.map((row) => row.id) } },
          });
        }
      } catch (error) {
        logger.warn('checkpoint before the turn failed', { chatId: chat.id, error });
      }
    },

    /**
     * Soft-deletes `messageId` (a USER message) and everything after it, like editMessage, and
     * with `restoreFiles` puts the workspace's files back as they were before it. Refused with
     * CONFLICT while a turn runs (interrupt it first): files must not change under a running tool.
     */
    async rewindChat(
      viewer: Viewer,
      input: { messageId: string; chatId?: string | null; restoreFiles?: boolean | null },
    ) {
      const { messageId } = input;
      const restoreFiles = input.restoreFiles ?? true;
      const id = parseBigIntId(messageId);
      const original = id
        ? await prisma.chatMessage.findFirst({ where: { id, deleted: false } })
        : null;
      // A message of another chat than the one named is as unknown as a missing one.
      if (!original || (input.chatId && original.chatId !== input.chatId)) {
        throw notFound('Message');
      }
      await loadChatForWrite(prisma, viewer, original.chatId).catch(() => {
        throw notFound('Message');
      });
      if (original.role !== 'USER') {
        throw badInput('messageId', 'Only a USER message can be rewound to');
      }
      // Resolved before the transaction: they read the database outside it (one connection on
      // PGlite), while the restore itself is only an HTTP call to the agent.
      const workspace = restoreFiles ? await workspaces.workspaceForChat(original.chatId) : null;
      const client = workspace ? await agentFor(workspace.id) : null;
      const { chat, restored } = await prisma.$transaction(
        async (tx) => {
          const locked = await lockChat(tx, viewer, original.chatId);
          const still = await tx.chatMessage.findFirst({
            where: { id: original.id, deleted: false },
          });
          if (!still) throw notFound('Message');
          if (locked.archived) throw conflict('Chat is archived; unarchive it first');
          if (locked.status === 'RUNNING') {
            throw conflict('A turn is running: interrupt the chat first, then rewind');
          }
          let restoredFiles: { restored: number; removed: string[] } | null = null;
          if (workspace && client) {
            const checkpoint = await tx.chatCheckpoint.findUnique({
              where: { chatId_messageId: { chatId: locked.id, messageId: original.id } },
            });
            if (!checkpoint || checkpoint.workspaceId !== workspace.id) {
              throw conflict(
                'No checkpoint of the workspace before this message (only the last ' +
                  `${MAX_CHECKPOINTS_PER_CHAT} are kept); rewind with restoreFiles: false`,
              );
            }
            restoredFiles = await restore(client, checkpoint.commit, checkpoint.skipped);
          }
          await tx.chatMessage.updateMany({
            where: { chatId: locked.id, id: { gte: original.id } },
            data: { deleted: true },
          });
          await tx.queuedMessage.deleteMany({ where: { chatId: locked.id } });
          await tx.chatCheckpoint.deleteMany({
            where: { chatId: locked.id, messageId: { gte: original.id } },
          });
          const updated = await tx.chat.update({
            where: { id: locked.id },
            data: {
              // A PENDING turn was for a message that is gone now.
              ...(locked.status === 'PENDING' ? { status: 'WAITING' as const } : {}),
              interruptRequest: null,
              pendingQuestion: Prisma.DbNull,
              lastActivityAt: new Date(),
            },
          });
          return { chat: updated, restored: restoredFiles };
        },
        { timeout: REWIND_TRANSACTION_TIMEOUT_MS },
      );
      await Promise.all([
        events.queue(chat.id),
        events.status(chat),
        gitChanges.changed(chat.rootId ?? chat.id, 'rewind'),
      ]).catch((error: unknown) => logger.warn('publish failed', { what: 'rewind', error }));
      logger.info('chat rewound', {
        chatId: chat.id,
        messageId,
        restored: restored?.restored,
        removed: restored?.removed.length,
      });
      return chat;
    },
  };

  async function agentFor(workspaceId: string): Promise<WorkspaceAgentClient> {
    try {
      return await workspaces.clientFor(workspaceId);
    } catch (error) {
      if (error instanceof WorkspaceError) {
        throw conflict(`The workspace cannot be reached to restore its files: ${error.message}`);
      }
      throw error;
    }
  }

  async function restore(client: WorkspaceAgentClient, commit: string, skipped: unknown) {
    const keep = Array.isArray(skipped) ? skipped.filter((p) => typeof p === 'string') : [];
    try {
      return await client.restoreCheckpoint(
        { commit, keep },
        { signal: AbortSignal.timeout(CHECKPOINT_TIMEOUT_MS) },
      );
    } catch (error) {
      if (error instanceof WorkspaceAgentError) {
        throw new AppError(
          'CONFLICT',
          `The workspace files could not be restored: ${error.message}`,
        );
      }
      throw error;
    }
  }
}

export type RewindService = ReturnType<typeof createRewindService>;
