import { resolveChatModel, type ChatModel } from '../chats/chat-model.js';
import { createChatEvents, type ChatEvents } from '../chats/events.js';
import { CONTENT_VERSION, type MessagePart } from '../chats/parts.js';
import { insertUserMessageAndSetPending, popQueuedMessage } from '../chats/transitions.js';
import {
  LeaseLostError,
  reserveMessageId,
  withLease,
  type AcquiredChat,
  type Lease,
} from '../db/chat-leases.js';
import type { Deps } from '../deps.js';
import type { ChatMessage, Prisma } from '../generated/prisma/client.js';
import { computeCostMicros, type RetryPolicy, type TokenUsage } from '../llm/index.js';
import { topics } from '../pubsub/index.js';
import { getSystemPrompt } from '../settings/service.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ToolContext } from '../tools/tool.js';
import type { TitleService } from '../chats/title-service.js';
import { runAgentLoop, type LoopCallbacks, type LoopOutcome } from './loop.js';
import { buildPrompt } from './prompt.js';
import { storableJson } from '../text/storable.js';
import type { CompactionHook } from './compaction.js';

/** Why a turn's signal was aborted; decides the chat's status at the end (ARCHITECTURE.md). */
export type StopReason = 'interrupt' | 'lost' | 'shutdown';

export interface TurnEnvironment {
  deps: Deps;
  tools: ToolRegistry;
  titles: TitleService;
  maxSteps: number;
  retryPolicy?: RetryPolicy;
  /** Extra system messages for a chat (workspace instructions, subagent role). */
  instructionsFor?: (chat: {
    id: string;
    workspaceId: string | null;
    parentId: string | null;
  }) => Promise<string[]>;
  compaction?: CompactionHook;
}

export interface TurnHandle {
  signal: AbortSignal;
  /** The reason the signal was aborted with, once it was. */
  stopReason(): StopReason | undefined;
  /**
   * Resolves while this worker still holds the lease; throws LeaseLostError (and stops the turn)
   * once it does not. Called before publishing what the database cannot fence (B9).
   */
  confirmLease?(): Promise<void>;
}

const NO_MODEL_ERROR =
  'No usable model config for this chat: an admin must create or enable one (and a default).';

/**
 * Runs one turn of an acquired chat: prompt, loop, persistence and the final transition, all
 * conditional on the lease. Never throws: whatever happens, the chat ends in a defined state or
 * (lease lost) is left to whoever owns it now.
 */
export async function runChatTurn(
  env: TurnEnvironment,
  acquired: AcquiredChat,
  handle: TurnHandle,
): Promise<void> {
  const { deps } = env;
  const { prisma, logger } = deps;
  const events = createChatEvents(deps);
  const lease: Lease = acquired;
  const log = logger.child({ chatId: lease.chatId, epoch: lease.epoch });
  let outcome: LoopOutcome | { kind: 'no-model' } | { kind: 'paused-before-start' };
  let chatModel: ChatModel | null = null;

  // A previous owner that died mid-step (kill -9, stale recovery) left that step's parts in the
  // buffer; its message will never be persisted, so a new subscriber must not get them (B13).
  await deps.pubsub.streamBuffer
    .clear(lease.chatId)
    .catch((error: unknown) => log.warn('clearing the stream buffer failed', { error }));

  try {
    if (acquired.interruptRequest === 'PAUSE') {
      outcome = { kind: 'paused-before-start' };
    } else {
      if (acquired.interruptRequest === 'NEXT') await runQueueHeadNow(env, events, lease);
      const chat = await prisma.chat.findUniqueOrThrow({ where: { id: lease.chatId } });
      await events.status(chat).catch(() => undefined);
      chatModel = await resolveChatModel(deps, chat.modelConfigId);
      outcome = chatModel
        ? await runLoop(env, events, lease, chat, chatModel, handle)
        : { kind: 'no-model' };
    }
  } catch (error) {
    if (error instanceof LeaseLostError || handle.stopReason() === 'lost') {
      log.info('turn stopped: chat no longer owned');
      return;
    }
    log.error('turn failed', { error });
    outcome = { kind: 'error', steps: 0, message: 'Internal error while running the turn' };
  }

  const finished = await finishTurn(env, events, lease, outcome, handle.stopReason()).catch(
    (error: unknown) => {
      if (!(error instanceof LeaseLostError)) log.error('finishing the turn failed', { error });
      return null;
    },
  );
  if (finished && chatModel && (outcome.kind === 'completed' || outcome.kind === 'step-cap')) {
    const userMessages = await prisma.chatMessage.count({
      where: { chatId: lease.chatId, role: 'USER', deleted: false },
    });
    if (userMessages === 1) await env.titles.titleAfterFirstTurn(lease.chatId, chatModel.model);
  }
}

async function runLoop(
  env: TurnEnvironment,
  events: ChatEvents,
  lease: Lease,
  chat: {
    id: string;
    ownerId: string;
    rootId: string | null;
    parentId: string | null;
    mode: 'DEFAULT' | 'PLAN';
    workspaceId: string | null;
  },
  chatModel: ChatModel,
  handle: TurnHandle,
): Promise<LoopOutcome> {
  const { prisma, pubsub, logger } = env.deps;
  const history = await prisma.chatMessage.findMany({
    where: { chatId: chat.id, deleted: false },
    orderBy: { id: 'asc' },
  });
  const messages = buildPrompt({
    systemPrompt: await getSystemPrompt(prisma),
    instructions: (await env.instructionsFor?.(chat)) ?? [],
    history,
  });
  const toolContext: Omit<ToolContext, 'signal'> = {
    chatId: chat.id,
    ownerId: chat.ownerId,
    rootChatId: chat.rootId ?? chat.id,
    isSubagent: chat.parentId !== null,
    mode: chat.mode,
    workspaceId: chat.workspaceId,
  };
  const { settings } = chatModel;

  const publishMessages = async (rows: ChatMessage[]) => {
    for (const row of rows) await events.message(row);
    await pubsub.streamBuffer.clear(chat.id);
  };

  const callbacks: LoopCallbacks = {
    reserveMessageId: async () => (await reserveMessageId(prisma)).toString(),
    async publishPart({ messageId, role, part, seq }) {
      const event = {
        __typename: 'MessagePartEvent' as const,
        chatId: chat.id,
        messageId,
        role,
        part,
        seq,
      };
      // A worker that lost the chat (it was paused past stale-after) must not stream into it.
      await handle.confirmLease?.();
      await pubsub.streamBuffer.publish(chat.id, event);
    },
    async persistStep(step) {
      const row = await withLease(prisma, lease, (tx) =>
        insertMessage(tx, {
          id: BigInt(step.messageId),
          chatId: chat.id,
          role: 'ASSISTANT',
          parts: step.parts,
          modelConfigId: settings.modelConfigId,
          usage: step.usage,
          costMicros: computeCostMicros(step.usage, settings.prices),
        }),
      );
      await publishMessages([row]);
    },
    async persistToolResults(results) {
      const rows = await withLease(prisma, lease, async (tx) => {
        const inserted: ChatMessage[] = [];
        for (const { messageId, part } of results) {
          inserted.push(
            await insertMessage(tx, {
              id: BigInt(messageId),
              chatId: chat.id,
              role: 'TOOL',
              parts: [part],
              modelConfigId: null,
              usage: null,
              costMicros: 0,
            }),
          );
        }
        return inserted;
      });
      await publishMessages(rows);
    },
    executeTool: (name, args, signal) =>
      env.tools.execute(name, args, { ...toolContext, signal }, logger),
    onRetry: async (retry) => {
      await handle.confirmLease?.();
      await events.retry(chat.id, retry);
    },
    afterStep: env.compaction
      ? (usage, prompt) =>
          env.compaction!({
            lease,
            chatId: chat.id,
            model: chatModel,
            usage,
            prompt,
            signal: handle.signal,
          })
      : undefined,
  };

  return runAgentLoop(
    {
      model: chatModel.model,
      tools: env.tools.specsFor(toolContext),
      messages,
      maxSteps: env.maxSteps,
      retryPolicy: env.retryPolicy,
      coalesce: { windowMs: env.deps.config.CHAT_STREAM_COALESCE_MS },
      signal: handle.signal,
    },
    callbacks,
  );
}

interface NewMessage {
  id: bigint;
  chatId: string;
  role: 'ASSISTANT' | 'TOOL' | 'SYSTEM';
  parts: MessagePart[];
  modelConfigId: string | null;
  usage: TokenUsage | null;
  costMicros: number;
  isSummary?: boolean;
}

export async function insertMessage(tx: Prisma.TransactionClient, message: NewMessage) {
  const row = await tx.chatMessage.create({
    data: {
      id: message.id,
      chatId: message.chatId,
      role: message.role,
      // The one place the daemon stores parts: NUL and lone surrogates (tool output, model
      // output) become U+FFFD here, or Postgres would fail the whole turn (src/text/storable.ts).
      parts: storableJson(message.parts) as unknown as Prisma.InputJsonValue,
      contentVersion: CONTENT_VERSION,
      modelConfigId: message.modelConfigId,
      inputTokens: message.usage?.inputTokens ?? 0,
      outputTokens: message.usage?.outputTokens ?? 0,
      reasoningTokens: message.usage?.reasoningTokens ?? 0,
      cacheReadTokens: message.usage?.cacheReadTokens ?? 0,
      cacheWriteTokens: message.usage?.cacheWriteTokens ?? 0,
      costMicros: message.costMicros,
      isSummary: message.isSummary ?? false,
    },
  });
  await tx.chat.update({ where: { id: message.chatId }, data: { lastActivityAt: new Date() } });
  return row;
}

/** An INTERRUPT or promote that no worker carried out yet: its message runs before anything. */
async function runQueueHeadNow(env: TurnEnvironment, events: ChatEvents, lease: Lease) {
  const message = await withLease(env.deps.prisma, lease, async (tx) => {
    const head = await popQueuedMessage(tx, lease.chatId);
    if (!head) {
      await tx.chat.update({ where: { id: lease.chatId }, data: { interruptRequest: null } });
      return null;
    }
    const inserted = await insertUserMessageAndSetPending(
      tx,
      lease.chatId,
      head.text,
      head.createdById,
    );
    await tx.chat.update({ where: { id: lease.chatId }, data: { status: 'RUNNING' } });
    return inserted.message;
  });
  if (message) {
    await events.message(message).catch(() => undefined);
    await events.queue(lease.chatId).catch(() => undefined);
  }
}

/**
 * The end-of-turn transition, one transaction under the lease:
 * shutdown → PENDING (another replica resumes it); a pause → PAUSED; an error → ERROR;
 * otherwise the queue's head runs next (PENDING) or the chat WAITs for the user.
 */
async function finishTurn(
  env: TurnEnvironment,
  events: ChatEvents,
  lease: Lease,
  outcome: LoopOutcome | { kind: 'no-model' } | { kind: 'paused-before-start' },
  stopReason: StopReason | undefined,
) {
  const { prisma, pubsub } = env.deps;
  if (stopReason === 'lost') return null;
  const result = await withLease(prisma, lease, async (tx) => {
    const chat = await tx.chat.findUniqueOrThrow({ where: { id: lease.chatId } });
    const release = {
      workerId: null,
      startedAt: null,
      heartbeatAt: null,
      lastActivityAt: new Date(),
    };
    if (stopReason === 'shutdown') {
      return {
        chat: await tx.chat.update({
          where: { id: chat.id },
          data: { ...release, status: 'PENDING' },
        }),
        message: null,
      };
    }
    if (chat.interruptRequest === 'PAUSE' || outcome.kind === 'paused-before-start') {
      return {
        chat: await tx.chat.update({
          where: { id: chat.id },
          data: { ...release, status: 'PAUSED', interruptRequest: null, lastError: null },
        }),
        message: null,
      };
    }
    if (outcome.kind === 'error' || outcome.kind === 'no-model') {
      return {
        chat: await tx.chat.update({
          where: { id: chat.id },
          data: {
            ...release,
            status: 'ERROR',
            interruptRequest: null,
            lastError: outcome.kind === 'error' ? outcome.message : NO_MODEL_ERROR,
          },
        }),
        message: null,
      };
    }
    const head = chat.archived ? null : await popQueuedMessage(tx, chat.id);
    if (head) {
      const inserted = await insertUserMessageAndSetPending(
        tx,
        chat.id,
        head.text,
        head.createdById,
      );
      return {
        chat: await tx.chat.update({ where: { id: chat.id }, data: release }),
        message: inserted.message,
      };
    }
    return {
      chat: await tx.chat.update({
        where: { id: chat.id },
        data: { ...release, status: 'WAITING', interruptRequest: null, lastError: null },
      }),
      message: null,
    };
  });
  const publishAll = async () => {
    if (result.message) {
      await events.message(result.message);
      await events.queue(result.chat.id);
    }
    if (result.chat.status === 'ERROR' && result.chat.lastError) {
      await events.error(result.chat.id, result.chat.lastError);
    }
    await events.status(result.chat);
    await pubsub.streamBuffer.clear(result.chat.id);
    if (result.chat.status === 'PENDING') {
      await pubsub.publish(topics.daemonWake(), { reason: 'chat pending' });
    }
  };
  await publishAll().catch((error: unknown) => env.deps.logger.warn('publish failed', { error }));
  return result.chat;
}
