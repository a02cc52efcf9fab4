import { setTimeout as sleep } from 'node:timers/promises';
import { isUuid, parseBigIntId } from '../db/ids.js';
import type { Deps, Viewer } from '../deps.js';
import { badInput, conflict, notFound } from '../errors.js';
import type { ChatMode, Prisma } from '../generated/prisma/client.js';
import { topics } from '../pubsub/index.js';
import { assertChatWritable, loadChatForWrite, lockChat } from './access.js';
import { createArchiveOperations } from './archive.js';
import { createChatEvents } from './events.js';
import { createPinOperations } from './pins.js';
import { readParts } from './parts.js';
import { validateLabels, type Label } from './labels.js';
import { resolveChatModelConfigId } from './model-configs.js';
import { initialTitle, MAX_TITLE_LENGTH } from './titles.js';
import {
  createPendingChat,
  insertQueuedMessageAndSetPending,
  insertUserMessageAndSetPending,
  popQueuedMessage,
  queuePosition,
  sendToIdleChat,
} from './transitions.js';
import { saveMcpSelection, validateMcpSelection } from '../mcp/selection.js';
import { filePart, fileLimits, linkFiles, loadOwnedFiles } from '../files/service.js';

export const MAX_MESSAGE_LENGTH = 100_000;
/** Queued messages per chat; past this sendMessage is a CONFLICT. */
export const MAX_QUEUE_SIZE = 20;
/** How long interruptChat waits for the worker to persist what it produced. */
export const INTERRUPT_ACK_TIMEOUT_MS = 5_000;

export type BusyBehavior = 'QUEUE' | 'INTERRUPT';

export interface ChatServiceOptions {
  /** B28: throws USAGE_LIMIT_EXCEEDED when the user is past their limit. */
  assertWithinUsageLimit(userId: string): Promise<void>;
}

/**
 * Chat operations of the API (B8, B11, B12, B24, B25). Every state change is one transaction that
 * first row-locks the chat, so it serialises with the daemon's writes; events go out after commit.
 */
export function createChatService(deps: Deps, options: ChatServiceOptions) {
  const { prisma, pubsub, logger } = deps;
  const events = createChatEvents(deps);

  const publish = (what: string, work: () => Promise<unknown>) =>
    work().catch((error: unknown) => logger.warn('publish failed', { what, error }));
  const wakeDaemons = () =>
    publish('daemon wake', () => pubsub.publish(topics.daemonWake(), { reason: 'chat pending' }));
  const signalInterrupt = (chatId: string, reason: 'user' | 'edit' | 'promote' | 'message') =>
    publish('interrupt', () =>
      pubsub.publish(topics.chatControl(chatId), { type: 'interrupt', reason }),
    );
  const writeContext = { prisma, events, publish, signalInterrupt };

  return {
    events,

    async createChat(
      viewer: Viewer,
      input: {
        text: string;
        modelConfigId?: string | null;
        labels?: Label[] | null;
        mode?: ChatMode | null;
        workspaceId?: string | null;
        /** Issue #12: the MCP servers to use; null: the servers' availability decides. */
        mcpServerIds?: readonly string[] | null;
        /** Issue #10: the viewer's uploaded files the first message carries. */
        fileIds?: readonly string[] | null;
      },
    ) {
      const text = validateText(input.text);
      const files = await loadOwnedFiles(prisma, viewer, input.fileIds ?? [], fileLimits(deps));
      const labels = validateLabels(input.labels ?? []);
      await options.assertWithinUsageLimit(viewer.id);
      const modelConfigId = await resolveChatModelConfigId(deps.sql, input.modelConfigId);
      if (input.workspaceId) await requireOwnWorkspace(viewer, input.workspaceId);
      const mcpServerIds = await validateMcpSelection(prisma, input.mcpServerIds);
      const { chat, message } = await createPendingChat(
        deps.sql,
        {
          ownerId: viewer.id,
          title: initialTitle(text),
          mode: input.mode ?? 'DEFAULT',
          modelConfigId,
          labels,
          workspaceId: input.workspaceId ?? null,
        },
        text,
        viewer.id,
        files.map(filePart),
        { fileIds: files.map((file) => file.id), mcpServerIds },
      );
      await publish('chat created', async () => {
        await events.list(chat.ownerId, 'CREATED', chat.id);
        await events.message(message);
      });
      await wakeDaemons();
      return chat;
    },

    async sendMessage(
      viewer: Viewer,
      input: {
        chatId: string;
        text: string;
        busyBehavior?: BusyBehavior | null;
        /** Issue #12: replaces the chat's MCP server choice from its next turn; null: no change. */
        mcpServerIds?: readonly string[] | null;
        /** Issue #10: the viewer's uploaded files the message carries. */
        fileIds?: readonly string[] | null;
      },
    ) {
      const text = validateText(input.text);
      const files = await loadOwnedFiles(prisma, viewer, input.fileIds ?? [], fileLimits(deps));
      const busyBehavior = input.busyBehavior ?? 'QUEUE';
      await assertChatWritable(deps.sql, viewer, input.chatId);
      const mcpServerIds = await validateMcpSelection(prisma, input.mcpServerIds);
      await options.assertWithinUsageLimit(viewer.id);
      const parts = files.map(filePart);
      const fileIds = files.map((file) => file.id);
      // The common case (an idle chat, no MCP choice) is one statement; anything else, or a
      // chat that changed since the check above, is decided by the transaction.
      const sent = mcpServerIds
        ? null
        : await sendToIdleChat(deps.sql, input.chatId, viewer.id, text, parts, fileIds);
      const result = sent
        ? { ...sent, queuedMessage: null, resumedWith: null }
        : await prisma.$transaction(async (tx) => {
            const chat = await lockChat(tx, viewer, input.chatId);
            if (chat.archived) throw conflict('Chat is archived; unarchive it first');
            if (mcpServerIds) {
              if (chat.parentId) throw subagentMcpChoice();
              await saveMcpSelection(tx, chat.id, mcpServerIds);
            }
            const busy = chat.status === 'RUNNING' || chat.status === 'PENDING';
            // B11: a PAUSED chat keeps its queue; a new message goes behind it and the queue head
            // runs now, so queued messages keep their order. A queued message keeps its files.
            if (chat.status === 'PAUSED') {
              const head = await popQueuedMessage(tx, chat.id);
              if (head) {
                const queuedMessage = await tx.queuedMessage.create({
                  data: {
                    chatId: chat.id,
                    text,
                    createdById: viewer.id,
                    position: await queuePosition(tx, chat.id, 'tail'),
                    files: parts as unknown as Prisma.InputJsonValue,
                  },
                });
                await linkFiles(tx, chat.id, files);
                const resumed = await insertQueuedMessageAndSetPending(tx, chat.id, head);
                return {
                  chat: resumed.chat,
                  message: null,
                  queuedMessage,
                  resumedWith: resumed.message,
                };
              }
            }
            if (!busy) {
              const inserted = await insertUserMessageAndSetPending(
                tx,
                chat.id,
                text,
                viewer.id,
                parts,
              );
              await linkFiles(tx, chat.id, files);
              return { ...inserted, queuedMessage: null, resumedWith: null };
            }
            const queued = await tx.queuedMessage.count({ where: { chatId: chat.id } });
            if (queued >= MAX_QUEUE_SIZE) {
              throw conflict(`The chat's queue is full (${MAX_QUEUE_SIZE} messages)`);
            }
            const interrupt = busyBehavior === 'INTERRUPT';
            const queuedMessage = await tx.queuedMessage.create({
              data: {
                chatId: chat.id,
                text,
                createdById: viewer.id,
                position: await queuePosition(tx, chat.id, interrupt ? 'head' : 'tail'),
                files: parts as unknown as Prisma.InputJsonValue,
              },
            });
            // Linked now, as the message is accepted: Chat.files lists it and retention keeps it.
            await linkFiles(tx, chat.id, files);
            // The worker persists what the turn produced, then runs the queue head next: one writer,
            // so the interrupted step can never land after the new message.
            const updated =
              interrupt && chat.status === 'RUNNING'
                ? await tx.chat.update({
                    where: { id: chat.id },
                    data: { interruptRequest: 'NEXT' },
                  })
                : chat;
            return { chat: updated, message: null, queuedMessage, resumedWith: null };
          });
      await publish('message sent', async () => {
        const inserted = result.message ?? result.resumedWith;
        if (inserted) {
          await events.message(inserted);
          await events.status(result.chat);
        }
        if (result.queuedMessage) await events.queue(result.chat.id);
      });
      if (result.message ?? result.resumedWith) await wakeDaemons();
      if (result.chat.interruptRequest === 'NEXT') await signalInterrupt(result.chat.id, 'message');
      return result;
    },

    async editMessage(
      viewer: Viewer,
      input: {
        messageId: string;
        text: string;
        /** Issue #10: the edited message's files; null keeps the original's, [] drops them. */
        fileIds?: readonly string[] | null;
      },
    ) {
      const text = validateText(input.text);
      const newFiles = input.fileIds
        ? await loadOwnedFiles(prisma, viewer, input.fileIds, fileLimits(deps))
        : null;
      const messageId = parseBigIntId(input.messageId);
      const original = messageId
        ? await prisma.chatMessage.findFirst({ where: { id: messageId, deleted: false } })
        : null;
      if (!original) throw notFound('Message');
      await loadChatForWrite(prisma, viewer, original.chatId).catch(() => {
        throw notFound('Message');
      });
      if (original.role !== 'USER') {
        throw badInput('messageId', 'Only USER messages can be edited');
      }
      // An edit starts a turn just like sendMessage, so the same limits apply (B28).
      await options.assertWithinUsageLimit(viewer.id);
      const { chat, message, wasRunning } = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, original.chatId);
        if (locked.archived) throw conflict('Chat is archived; unarchive it first');
        const still = await tx.chatMessage.findFirst({
          where: { id: original.id, deleted: false },
        });
        if (!still) throw notFound('Message');
        await tx.chatMessage.updateMany({
          where: { chatId: locked.id, id: { gte: original.id } },
          data: { deleted: true },
        });
        await tx.queuedMessage.deleteMany({ where: { chatId: locked.id } });
        const fileParts = newFiles
          ? newFiles.map(filePart)
          : readParts(still.contentVersion, still.parts).filter((part) => part.type === 'FILE');
        if (newFiles) await linkFiles(tx, locked.id, newFiles);
        // Fence off a running worker: a new lease means none of its later writes land.
        await tx.chat.update({
          where: { id: locked.id },
          data: {
            workerId: null,
            leaseEpoch: { increment: 1 },
            startedAt: null,
            heartbeatAt: null,
          },
        });
        return {
          ...(await insertUserMessageAndSetPending(tx, locked.id, text, viewer.id, fileParts)),
          wasRunning: locked.status === 'RUNNING',
        };
      });
      if (wasRunning) await signalInterrupt(chat.id, 'edit');
      await publish('message edited', async () => {
        await events.message(message);
        await events.queue(chat.id);
        await events.status(chat);
      });
      await wakeDaemons();
      return chat;
    },

    /**
     * B11: stops the turn and sets PAUSED. A RUNNING chat's worker is asked to stop and persist
     * what it produced; the mutation waits for that (bounded), then fences a worker that did not
     * answer so nothing it writes later lands.
     */
    async interruptChat(viewer: Viewer, chatId: string) {
      const chat = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, chatId);
        if (locked.status === 'PENDING') {
          return tx.chat.update({
            where: { id: locked.id },
            data: { status: 'PAUSED', interruptRequest: null },
          });
        }
        if (locked.status !== 'RUNNING') return locked;
        return tx.chat.update({ where: { id: locked.id }, data: { interruptRequest: 'PAUSE' } });
      });
      if (chat.status === 'PAUSED') {
        await publish('chat paused', () => events.status(chat));
        return chat;
      }
      if (chat.status !== 'RUNNING') return chat;
      const settled = await waitForStatusChange(chat.id, INTERRUPT_ACK_TIMEOUT_MS, async () => {
        await signalInterrupt(chat.id, 'user');
      });
      if (settled) return prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
      const forced = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, chatId);
        if (locked.status !== 'RUNNING') return locked;
        logger.warn('worker did not answer an interrupt; fencing it', {
          chatId,
          workerId: locked.workerId,
        });
        return tx.chat.update({
          where: { id: locked.id },
          data: {
            status: 'PAUSED',
            workerId: null,
            leaseEpoch: { increment: 1 },
            interruptRequest: null,
            startedAt: null,
            heartbeatAt: null,
          },
        });
      });
      await publish('chat paused', () => events.status(forced));
      return forced;
    },

    async deleteQueuedMessage(viewer: Viewer, chatId: string, queuedId: string) {
      const id = parseBigIntId(queuedId);
      const chat = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, chatId);
        const deleted = id
          ? await tx.queuedMessage.deleteMany({ where: { id, chatId: locked.id } })
          : { count: 0 };
        if (deleted.count === 0) throw notFound('Queued message');
        return locked;
      });
      await publish('queue changed', () => events.queue(chat.id));
      return chat;
    },

    /** Runs a queued message next: at once on an idle chat, after interrupting a running one. */
    async promoteQueuedMessage(viewer: Viewer, chatId: string, queuedId: string) {
      const id = parseBigIntId(queuedId);
      const result = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, chatId);
        const queued = id
          ? await tx.queuedMessage.findFirst({ where: { id, chatId: locked.id } })
          : null;
        if (!queued) throw notFound('Queued message');
        if (locked.archived) throw conflict('Chat is archived; unarchive it first');
        if (locked.status === 'RUNNING' || locked.status === 'PENDING') {
          await tx.queuedMessage.update({
            where: { id: queued.id },
            data: { position: await queuePosition(tx, locked.id, 'head') },
          });
          const chat =
            locked.status === 'RUNNING'
              ? await tx.chat.update({
                  where: { id: locked.id },
                  data: { interruptRequest: 'NEXT' },
                })
              : locked;
          return { chat, message: null };
        }
        await tx.queuedMessage.delete({ where: { id: queued.id } });
        return insertQueuedMessageAndSetPending(tx, locked.id, queued);
      });
      await publish('queue promoted', async () => {
        await events.queue(result.chat.id);
        if (result.message) {
          await events.message(result.message);
          await events.status(result.chat);
        }
      });
      if (result.message) await wakeDaemons();
      else if (result.chat.status === 'RUNNING') await signalInterrupt(result.chat.id, 'promote');
      return result.chat;
    },

    async updateChat(
      viewer: Viewer,
      input: {
        id: string;
        title?: string | null;
        labels?: Label[] | null;
        modelConfigId?: string | null;
        mode?: ChatMode | null;
        /** Issue #12: replaces the chat's MCP server choice; null: no change. */
        mcpServerIds?: readonly string[] | null;
      },
    ) {
      const data: Prisma.ChatUpdateInput = {};
      if (input.title !== undefined && input.title !== null) {
        const title = input.title.replace(/\s+/g, ' ').trim();
        if (title.length === 0 || [...title].length > MAX_TITLE_LENGTH) {
          throw badInput('title', `Title must be 1-${MAX_TITLE_LENGTH} characters`);
        }
        data.title = title;
      }
      if (input.labels) data.labels = validateLabels(input.labels);
      if (input.mode) data.mode = input.mode;
      // Another user's chat is NOT_FOUND before its model config is even looked at (B5).
      const before = await loadChatForWrite(prisma, viewer, input.id);
      if (input.modelConfigId) {
        data.modelConfig = {
          connect: { id: await resolveChatModelConfigId(deps.sql, input.modelConfigId) },
        };
      }
      const mcpServerIds = await validateMcpSelection(prisma, input.mcpServerIds);
      if (mcpServerIds && before.parentId) throw subagentMcpChoice();
      const chat = mcpServerIds
        ? await prisma.$transaction(async (tx) => {
            await saveMcpSelection(tx, before.id, mcpServerIds);
            return tx.chat.update({ where: { id: before.id }, data });
          })
        : await prisma.chat.update({ where: { id: before.id }, data });
      await publish('chat updated', async () => {
        if (data.title !== undefined && chat.title !== before.title) await events.title(chat);
        else await events.list(chat.ownerId, 'UPDATED', chat.id);
      });
      return chat;
    },

    ...createArchiveOperations(writeContext),
    ...createPinOperations(writeContext),

    async markChatRead(viewer: Viewer, chatId: string) {
      const chat = await loadChatForWrite(prisma, viewer, chatId);
      return markRead(chat.id);
    },

    /** Advances the owner's read mark (markChatRead, or a subscription delivering a message). */
    markRead,
  };

  async function markRead(chatId: string, upTo?: bigint) {
    const latest =
      upTo ??
      (
        await prisma.chatMessage.aggregate({
          where: { chatId, deleted: false },
          _max: { id: true },
        })
      )._max.id;
    if (latest === null || latest === undefined) {
      return prisma.chat.findUniqueOrThrow({ where: { id: chatId } });
    }
    // Never move the mark backwards (a slow subscription after a newer markChatRead).
    await prisma.chat.updateMany({
      where: {
        id: chatId,
        OR: [{ lastReadMessageId: null }, { lastReadMessageId: { lt: latest } }],
      },
      data: { lastReadMessageId: latest },
    });
    return prisma.chat.findUniqueOrThrow({ where: { id: chatId } });
  }

  async function requireOwnWorkspace(viewer: Viewer, workspaceId: string) {
    const workspace = isUuid(workspaceId)
      ? await prisma.workspace.findUnique({ where: { id: workspaceId } })
      : null;
    if (!workspace || workspace.ownerId !== viewer.id) throw notFound('Workspace');
  }

  /** Resolves true when the chat leaves RUNNING within timeoutMs (pub/sub, then a DB re-check). */
  async function waitForStatusChange(
    chatId: string,
    timeoutMs: number,
    afterSubscribed: () => Promise<void>,
  ): Promise<boolean> {
    const left = new AbortController();
    const unsubscribe = await pubsub.subscribe(topics.chatEvents(chatId), (event) => {
      if (event.__typename === 'StatusEvent' && event.status !== 'RUNNING') left.abort();
    });
    try {
      await afterSubscribed();
      const current = await prisma.chat.findUnique({ where: { id: chatId } });
      if (!current || current.status !== 'RUNNING') return true;
      // Ends early (rejects) when the event aborts it; the flag below tells which.
      await sleep(timeoutMs, undefined, { signal: left.signal }).catch(() => undefined);
      if (left.signal.aborted) return true;
      // Pub/sub may have dropped the event: the database decides.
      const latest = await prisma.chat.findUnique({ where: { id: chatId } });
      return !latest || latest.status !== 'RUNNING';
    } finally {
      await unsubscribe();
    }
  }
}

export type ChatService = ReturnType<typeof createChatService>;

function validateText(text: string): string {
  if (text.trim().length === 0) throw badInput('text', 'Message text must not be empty');
  if (text.length > MAX_MESSAGE_LENGTH) {
    throw badInput('text', `Message text must be at most ${MAX_MESSAGE_LENGTH} characters`);
  }
  return text;
}

/** Subagents use their root chat's MCP servers (issue #12): the choice is made there. */
const subagentMcpChoice = () =>
  badInput('mcpServerIds', "A subagent chat uses its root chat's MCP servers; choose them there");
