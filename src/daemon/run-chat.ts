import { resolveChatModel, type ChatModel } from '../chats/chat-model.js';
import { createChatEvents, type ChatEvents } from '../chats/events.js';
import { partsText, readParts } from '../chats/parts.js';
import { turnMessage } from '../chats/turn-message.js';
import { insertQueuedMessageAndSetPending, popQueuedMessage } from '../chats/transitions.js';
import {
  CHAT_MESSAGE_COLUMNS,
  endTurnWaiting,
  insertMessagesUnderLease,
  LeaseLostError,
  reserveMessageIds,
  withLease,
  type AcquiredChat,
  type AcquiredChatRow,
  type Lease,
} from '../db/chat-leases.js';
import type { Deps } from '../deps.js';
import type { ChatMessage, ChatStatus, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { computeCostMicros, type LlmMessage, type RetryPolicy } from '../llm/index.js';
import { providerErrorKind, recordStepUsage, timedToolCall } from '../metrics/metrics.js';
import { topics } from '../pubsub/index.js';
import { turnSettingsFor } from '../settings/system-prompt.js';
import { withCompactionThreshold } from '../settings/user-settings.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { Tool, ToolContext } from '../tools/tool.js';
import type { TitleService } from '../chats/title-service.js';
import { runAgentLoop, type LoopCallbacks, type LoopOutcome } from './loop.js';
import { buildPrompt } from './prompt.js';
import { loadPromptFiles } from '../files/prompt-files.js';
import { withInstructionsAfterCreate } from './workspace-instructions-step.js';
import type { CompactionHook } from './compaction.js';
import { planModeInstruction } from '../chats/plan-mode.js';
import { publishTurnEnd, recordTurnEnd, type RecordedTurnEnd } from './turn-end.js';

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
  /** Before the loop, in parallel with the prompt's reads: the workspace checkpoint (issue #11). */
  beforeTurn?: (chat: {
    id: string;
    rootId: string | null;
    workspaceId: string | null;
  }) => Promise<void>;
  /** After each tool call, e.g. to tell chatGitChanges subscribers to rescan. Must not throw. */
  afterTool?: (chat: { id: string; rootId: string | null }, toolName: string) => void;
  /**
   * A turn's own tools beyond `tools`: the chat's MCP servers' tools (issue #12). Must not throw:
   * a server that cannot be reached is left out of the turn.
   */
  mcpToolsFor?: (
    chat: { rootChatId: string; mode: 'DEFAULT' | 'PLAN' },
    signal: AbortSignal,
  ) => Promise<Tool[]>;
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
  /**
   * Runs work that must not hold the turn (title generation) after it ended; the signal aborts
   * it on shutdown. Without it the work runs before runChatTurn resolves.
   */
  background?(work: (signal: AbortSignal) => Promise<void>): void;
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
  const { logger } = deps;
  const lease: Lease = acquired;
  const chat = acquired.chat;
  const log = turnLogger(logger, lease);
  // A failed publish of this turn logs with the turn's chat, worker and epoch.
  const events = createChatEvents({ ...deps, logger: log });
  const endTurnTimer = deps.metrics?.turnDuration.startTimer();
  let outcome: LoopOutcome | { kind: 'no-model' } | { kind: 'paused-before-start' };
  let chatModel: ChatModel | null = null;
  let firstTurn: { userText: string } | null = null;

  // A previous owner that died mid-step (kill -9, stale recovery) left that step's parts in the
  // buffer; its message will never be persisted, so a new subscriber must not get them (B13).
  await deps.pubsub.streamBuffer
    .clear(lease.chatId)
    .catch((error: unknown) => log.warn('clearing the stream buffer failed', { error }));

  try {
    if (acquired.interruptRequest === 'PAUSE') {
      outcome = { kind: 'paused-before-start' };
    } else {
      // The queue head inserted now comes before the id drawn at acquire: draw a new one.
      const insertedHead =
        acquired.interruptRequest === 'NEXT' && (await runQueueHeadNow(env, events, lease));
      await events.status({
        id: chat.id,
        ownerId: chat.ownerId,
        status: 'RUNNING',
        lastError: null,
      });
      // Independent reads, in parallel: the turn waits for the slowest, not for their sum.
      const [resolvedModel, history, settings, instructions, mcpTools] = await Promise.all([
        resolveChatModel(deps, chat.modelConfigId),
        loadHistory(env, chat.id),
        turnSettingsFor(deps.sql, chat.ownerId),
        env.instructionsFor?.(chat) ?? Promise.resolve([]),
        env.mcpToolsFor?.({ rootChatId: chat.rootId ?? chat.id, mode: chat.mode }, handle.signal) ??
          Promise.resolve([]),
        env.beforeTurn?.(chat),
      ]);
      chatModel = withCompactionThreshold(resolvedModel, settings.compactionThresholds);
      firstTurn = firstUserTurn(history);
      const files = await loadPromptFiles(deps.prisma, history);
      outcome = chatModel
        ? await runLoop(env, events, lease, chat, chatModel, handle, {
            messages: buildPrompt({
              systemPrompt: settings.systemPrompt,
              instructions:
                chat.mode === 'PLAN'
                  ? [...instructions, planModeInstruction(chat.id, chat.workspaceId !== null)]
                  : instructions,
              history,
              files,
              supportsImages: chatModel.settings.supportsImages,
            }),
            firstMessageId: insertedHead ? null : acquired.firstMessageId,
            extraTools: mcpTools,
          })
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

  // Before the final status is published, so a client that saw it also sees the turn counted.
  endTurnTimer?.({ outcome: outcome.kind });
  const finished = await finishTurn(env, events, lease, outcome, handle.stopReason()).catch(
    (error: unknown) => {
      if (!(error instanceof LeaseLostError)) log.error('finishing the turn failed', { error });
      return null;
    },
  );
  // B22, off the turn's critical path: the chat is already WAITING (and its slot free) while the
  // title is generated.
  const model = chatModel?.model;
  if (
    finished &&
    model &&
    firstTurn &&
    (outcome.kind === 'completed' || outcome.kind === 'step-cap')
  ) {
    const firstUser = firstTurn.userText;
    const title = (signal: AbortSignal) =>
      env.titles.titleAfterFirstTurn(chat.id, model, {
        currentTitle: finished.title,
        firstUserText: firstUser,
        signal,
      });
    if (handle.background) handle.background(title);
    else await title(new AbortController().signal);
  }
}

/** Every line a turn logs names its chat, the worker running it and the lease epoch. */
function turnLogger(logger: Logger, lease: Lease): Logger {
  return logger.child({ chatId: lease.chatId, workerId: lease.workerId, epoch: lease.epoch });
}

function loadHistory(env: TurnEnvironment, chatId: string) {
  return env.deps.sql.query<ChatMessage>`
    SELECT ${CHAT_MESSAGE_COLUMNS} FROM chat_messages
    WHERE chat_id = ${chatId}::uuid AND NOT deleted
    ORDER BY id`;
}

/** The first user message's text when the history holds exactly one (B22: titled once). */
function firstUserTurn(history: ChatMessage[]): { userText: string } | null {
  const users = history.filter((message) => message.role === 'USER' && !message.deleted);
  if (users.length !== 1) return null;
  return { userText: partsText(readParts(users[0]!.contentVersion, users[0]!.parts)).trim() };
}

async function runLoop(
  env: TurnEnvironment,
  events: ChatEvents,
  lease: Lease,
  chat: AcquiredChatRow,
  chatModel: ChatModel,
  handle: TurnHandle,
  start: { messages: LlmMessage[]; firstMessageId: bigint | null; extraTools: Tool[] },
): Promise<LoopOutcome> {
  const tools = env.tools.withTools(start.extraTools);
  const { sql, pubsub } = env.deps;
  const logger = turnLogger(env.deps.logger, lease);
  const toolContext: Omit<ToolContext, 'signal'> = {
    chatId: chat.id,
    ownerId: chat.ownerId,
    rootChatId: chat.rootId ?? chat.id,
    isSubagent: chat.parentId !== null,
    explore: chat.explore,
    mode: chat.mode,
    workspaceId: chat.workspaceId,
  };
  const { settings } = chatModel;
  let preReserved = start.firstMessageId;
  const { metrics } = env.deps;
  const endFirstTokenTimer = metrics?.timeToFirstToken.startTimer({ model: settings.model });
  let firstPartSeen = false;

  const publishMessages = async (rows: ChatMessage[]) => {
    for (const row of rows) await events.message(row);
    await pubsub.streamBuffer.clear(chat.id);
  };

  const callbacks: LoopCallbacks = {
    async reserveMessageIds(count) {
      const ids: bigint[] = [];
      if (preReserved !== null && count > 0) {
        ids.push(preReserved);
        preReserved = null;
      }
      ids.push(...(await reserveMessageIds(sql, count - ids.length)));
      return ids.map(String);
    },
    async publishPart({ messageId, role, part, seq }) {
      const event = {
        __typename: 'MessagePartEvent' as const,
        chatId: chat.id,
        messageId,
        role,
        part,
        seq,
      };
      if (!firstPartSeen) {
        firstPartSeen = true;
        endFirstTokenTimer?.();
      }
      // A worker that lost the chat (it was paused past stale-after) must not stream into it.
      await handle.confirmLease?.();
      await pubsub.streamBuffer.publish(chat.id, event);
    },
    async persistStep(step) {
      const costMicros = computeCostMicros(step.usage, settings.prices);
      const rows = await insertMessagesUnderLease(sql, lease, [
        turnMessage({
          id: BigInt(step.messageId),
          role: 'ASSISTANT',
          parts: step.parts,
          modelConfigId: settings.modelConfigId,
          usage: step.usage,
          costMicros,
        }),
      ]);
      recordStepUsage(metrics, settings.model, step.usage, costMicros);
      await publishMessages(rows);
    },
    async persistToolResults(results) {
      const rows = await insertMessagesUnderLease(
        sql,
        lease,
        results.map(({ messageId, part }) =>
          turnMessage({
            id: BigInt(messageId),
            role: 'TOOL',
            parts: [part],
            modelConfigId: null,
            usage: null,
            costMicros: 0,
          }),
        ),
      );
      await publishMessages(rows);
    },
    executeTool: async (name, args, signal) => {
      const outcome = await timedToolCall(metrics, name, () =>
        tools.execute(name, args, { ...toolContext, signal }, logger),
      );
      env.afterTool?.(chat, name);
      return outcome;
    },
    onRetry: async ({ status, ...retry }) => {
      metrics?.providerRetries.inc({ kind: providerErrorKind(status) });
      await handle.confirmLease?.();
      await events.retry(chat.id, retry);
    },
    afterStep: withInstructionsAfterCreate(
      env.instructionsFor,
      chat,
      env.compaction
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
    ),
  };

  const outcome = await runAgentLoop(
    {
      model: chatModel.model,
      tools: tools.specsFor(toolContext),
      messages: start.messages,
      maxSteps: env.maxSteps,
      retryPolicy: env.retryPolicy,
      coalesce: { windowMs: env.deps.config.CHAT_STREAM_COALESCE_MS },
      signal: handle.signal,
    },
    callbacks,
  );
  if (outcome.kind === 'error')
    metrics?.providerErrors.inc({ kind: providerErrorKind(outcome.status) });
  return outcome;
}

/** An INTERRUPT or promote that no worker carried out yet: its message runs before anything. */
async function runQueueHeadNow(
  env: TurnEnvironment,
  events: ChatEvents,
  lease: Lease,
): Promise<boolean> {
  const message = await withLease(env.deps.prisma, lease, async (tx) => {
    const head = await popQueuedMessage(tx, lease.chatId);
    if (!head) {
      await tx.chat.update({ where: { id: lease.chatId }, data: { interruptRequest: null } });
      return null;
    }
    const inserted = await insertQueuedMessageAndSetPending(tx, lease.chatId, head);
    await tx.chat.update({ where: { id: lease.chatId }, data: { status: 'RUNNING' } });
    return inserted.message;
  });
  if (message) {
    await events.message(message);
    await events.queue(lease.chatId);
  }
  return message !== null;
}

/** What the end-of-turn transition leaves and publishes. */
interface FinishedChat {
  id: string;
  ownerId: string;
  /** The title now: a rename during the turn means no title is generated (B22). */
  title: string;
  status: ChatStatus;
  lastError: string | null;
}

type TurnOutcome = LoopOutcome | { kind: 'no-model' } | { kind: 'paused-before-start' };

/**
 * The end-of-turn transition, under the lease:
 * shutdown → PENDING (another replica resumes it); a pause → PAUSED; an error → ERROR;
 * otherwise the queue's head runs next (PENDING) or the chat WAITs for the user. The common
 * end, WAITING with nothing queued, is one statement (endTurnWaiting); what it declines (a pause
 * asked for, a queued message, a lost lease) and every other end is one transaction.
 */
async function finishTurn(
  env: TurnEnvironment,
  events: ChatEvents,
  lease: Lease,
  outcome: TurnOutcome,
  stopReason: StopReason | undefined,
) {
  const { prisma, sql, pubsub } = env.deps;
  if (stopReason === 'lost') return null;
  const waiting = endsWaitingUnlessQueued(outcome, stopReason)
    ? await endTurnWaiting(sql, lease)
    : null;
  const result: TransitionResult = waiting
    ? { chat: waiting, message: null }
    : await transitionUnderLease(prisma, lease, outcome, stopReason);
  const { turnEnd } = result;
  const publishAll = async () => {
    if (result.message) {
      await events.message(result.message);
      await events.queue(result.chat.id);
    }
    if (result.chat.status === 'ERROR' && result.chat.lastError) {
      await events.error(result.chat.id, result.chat.lastError);
    }
    if (turnEnd) {
      await publishTurnEnd(events, result.chat.id, turnEnd, result.chat.status === 'WAITING');
    }
    await events.status(result.chat);
    await pubsub.streamBuffer.clear(result.chat.id);
    if (result.chat.status === 'PENDING') {
      await pubsub.publish(topics.daemonWake(), { reason: 'chat pending' });
    }
  };
  await publishAll().catch((error: unknown) =>
    turnLogger(env.deps.logger, lease).warn('publish failed', { error }),
  );
  return result.chat;
}

/**
 * Whether the turn ends as "WAITING unless something is queued" unless the locked row says
 * otherwise (a pause asked for): endTurnWaiting's case. Not a shutdown (PENDING), an error, a
 * pause before the start, or a turn that ended with a question or plan (stored first, B20).
 */
function endsWaitingUnlessQueued(outcome: TurnOutcome, stopReason: StopReason | undefined) {
  if (stopReason === 'shutdown') return false;
  return (
    outcome.kind === 'step-cap' ||
    outcome.kind === 'interrupted' ||
    (outcome.kind === 'completed' && !outcome.endedBy)
  );
}

interface TransitionResult {
  chat: FinishedChat;
  /** The queued message that runs next, inserted as a USER message. */
  message: ChatMessage | null;
  /** The question or plan the turn ended with (B20), to publish. */
  turnEnd?: RecordedTurnEnd;
}

/** Every end of a turn, in one transaction on the locked row (see finishTurn). */
function transitionUnderLease(
  prisma: PrismaClient,
  lease: Lease,
  outcome: TurnOutcome,
  stopReason: StopReason | undefined,
): Promise<TransitionResult> {
  return withLease(prisma, lease, async (tx, locked): Promise<TransitionResult> => {
    const release = {
      workerId: null,
      startedAt: null,
      heartbeatAt: null,
      lastActivityAt: new Date(),
    };
    const update = (data: Prisma.ChatUpdateInput) =>
      tx.chat.update({ where: { id: lease.chatId }, data: { ...release, ...data } });
    if (stopReason === 'shutdown') {
      return { chat: await update({ status: 'PENDING' }), message: null };
    }
    if (locked.interruptRequest === 'PAUSE' || outcome.kind === 'paused-before-start') {
      return {
        chat: await update({ status: 'PAUSED', interruptRequest: null, lastError: null }),
        message: null,
      };
    }
    if (outcome.kind === 'error' || outcome.kind === 'no-model') {
      const lastError = outcome.kind === 'error' ? outcome.message : NO_MODEL_ERROR;
      return {
        chat: await update({ status: 'ERROR', interruptRequest: null, lastError }),
        message: null,
      };
    }
    // A question or plan (B20) is stored before the chat WAITs for it; a queued message that
    // runs next answers the question (insertUserMessageAndSetPending clears it).
    const turnEnd =
      outcome.kind === 'completed' && outcome.endedBy
        ? await recordTurnEnd(tx, lease.chatId, outcome.endedBy)
        : undefined;
    // Nothing queued: the chat waits for its user. One statement; it runs after the lock, so it
    // sees any message queued before (withLease).
    const waiting = await waitUnlessQueued(tx, lease.chatId, locked.archived);
    if (waiting) return { chat: waiting, message: null, turnEnd };
    const head = await popQueuedMessage(tx, lease.chatId);
    if (!head) throw new Error('the queue emptied under the chat lock');
    const inserted = await insertQueuedMessageAndSetPending(tx, lease.chatId, head);
    return { chat: await update({}), message: inserted.message, turnEnd };
  });
}

/**
 * RUNNING → WAITING when the chat's queue is empty (or the chat is archived: its queue waits for
 * the user); null when a queued message must run next.
 */
async function waitUnlessQueued(
  tx: Prisma.TransactionClient,
  chatId: string,
  archived: boolean,
): Promise<FinishedChat | null> {
  const rows = await tx.$queryRaw<FinishedChat[]>`
    UPDATE chats
    SET status = 'WAITING', worker_id = NULL, started_at = NULL, heartbeat_at = NULL,
        interrupt_request = NULL, last_error = NULL, last_activity_at = now(), updated_at = now()
    WHERE id = ${chatId}::uuid
      AND (${archived} OR NOT EXISTS (SELECT 1 FROM queued_messages WHERE chat_id = ${chatId}::uuid))
    RETURNING id::text AS id, owner_id::text AS "ownerId", title, status::text AS status,
              last_error AS "lastError"`;
  return rows[0] ?? null;
}
