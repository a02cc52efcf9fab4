import { Repeater } from 'graphql-yoga';

import { readParts } from '../chats/parts.js';
import type { Deps } from '../deps.js';
import { topics } from '../pubsub/index.js';
import type { GitChangesResponse } from './agent/git-protocol.js';
import { WorkspaceAgentError } from './agent-client.js';
import type { WorkspaceManager } from './service.js';

/** How often a chatGitChanges subscription rescans without any trigger (the seeds' 30 s). */
export const GIT_CHANGES_POLL_MS = 30_000;
/** Tool calls whose paths are looked at, newest first (a long chat touches the same few). */
const TOUCHED_MESSAGES_LIMIT = 500;
/** Tools after which the workspace may have changed: a scan follows (issue #11). */
export const CHANGING_TOOLS: ReadonlySet<string> = new Set([
  'write_file',
  'edit_files',
  'execute',
  'process_output',
  'process_signal',
]);

/** What Chat.gitChanges and chatGitChanges return. */
export interface GitChangesSnapshot extends GitChangesResponse {
  rootChatId: string;
}

/**
 * The files-changed view of a chat family (issue #11): the workspace agent scans with git; this
 * service says which repositories (the paths the family's tools touched, subagents included, so
 * their changes show on the root) and tells subscribers when to rescan.
 */
export function createGitChangesService(deps: Deps, workspaces: WorkspaceManager) {
  const { prisma, pubsub, logger } = deps;

  /** Paths of write_file / edit_files and execute's workdir, from the family's live messages. */
  async function touchedPaths(rootChatId: string): Promise<string[]> {
    const messages = await prisma.chatMessage.findMany({
      where: {
        role: 'ASSISTANT',
        deleted: false,
        chat: { OR: [{ id: rootChatId }, { rootId: rootChatId }] },
      },
      orderBy: { id: 'desc' },
      take: TOUCHED_MESSAGES_LIMIT,
      select: { parts: true, contentVersion: true },
    });
    const paths = new Set<string>();
    for (const message of messages) {
      for (const part of readParts(message.contentVersion, message.parts)) {
        if (part.type !== 'TOOL_CALL' || !part.args || typeof part.args !== 'object') continue;
        const args = part.args as Record<string, unknown>;
        if (part.toolName === 'write_file' && typeof args['path'] === 'string') {
          paths.add(args['path']);
        } else if (part.toolName === 'edit_files' && Array.isArray(args['files'])) {
          for (const file of args['files'] as Array<Record<string, unknown> | null>) {
            if (typeof file?.['path'] === 'string') paths.add(file['path']);
          }
        } else if (part.toolName === 'execute' && typeof args['workdir'] === 'string') {
          paths.add(args['workdir']);
        }
      }
    }
    return [...paths].slice(0, 200);
  }

  return {
    /** A snapshot of the root chat's workspace, or null when it has none (or it is stopped). */
    async snapshot(rootChatId: string, signal?: AbortSignal): Promise<GitChangesSnapshot | null> {
      const workspace = await workspaces.workspaceForChat(rootChatId);
      if (!workspace || workspace.status === 'STOPPED') return null;
      const paths = await touchedPaths(rootChatId);
      try {
        const client = await workspaces.clientFor(workspace.id);
        return { rootChatId, ...(await client.gitChanges({ paths }, { signal })) };
      } catch (error) {
        if (error instanceof WorkspaceAgentError && error.code === 'AGENT_UNREACHABLE') {
          workspaces.invalidate(workspace.id);
        }
        logger.warn('git changes scan failed', { rootChatId, error });
        return null;
      }
    },

    /** Tells chatGitChanges subscribers of the family to rescan (after a tool call, a rewind). */
    async changed(rootChatId: string, reason: string): Promise<void> {
      await pubsub
        .publish(topics.gitChanges(rootChatId), { reason })
        .catch((error: unknown) => logger.warn('publish failed', { what: 'git changes', error }));
    },

    /**
     * Snapshots for one subscriber: the first at once, then one whenever the workspace differs
     * from the last one sent, checked on every trigger and every GIT_CHANGES_POLL_MS. return()
     * (a client unsubscribing) ends it at once, also during a wait or a scan.
     */
    watch(rootChatId: string, pollMs = GIT_CHANGES_POLL_MS): Repeater<GitChangesSnapshot | null> {
      return new Repeater(async (push, stop) => {
        const stopped = new AbortController();
        void stop.then(() => stopped.abort());
        const { signal } = stopped;
        let wake: (() => void) | null = null;
        // A trigger during a scan means another scan right after it (an object: set in a callback).
        const pending = { trigger: false };
        const unsubscribe = await pubsub.subscribe(topics.gitChanges(rootChatId), () => {
          pending.trigger = true;
          wake?.();
        });
        const onAbort = () => wake?.();
        signal.addEventListener('abort', onAbort);
        let lastSent: string | undefined;
        try {
          while (!signal.aborted) {
            pending.trigger = false;
            const current = await this.snapshot(rootChatId, signal);
            const key = JSON.stringify(current?.repositories ?? null);
            if (key !== lastSent && !signal.aborted) {
              lastSent = key;
              await push(current);
            }
            if (pending.trigger || signal.aborted) continue;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, pollMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = null;
          }
        } finally {
          signal.removeEventListener('abort', onAbort);
          await unsubscribe();
          // A Repeater ends when stopped, not when its executor returns.
          stop();
        }
      });
    },
  };
}

export type GitChangesService = ReturnType<typeof createGitChangesService>;
