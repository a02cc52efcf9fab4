import type { Deps, Viewer } from '../deps.js';
import { badInput, conflict } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { topics } from '../pubsub/index.js';
import { loadChatForWrite, lockChat } from './access.js';
import { createChatEvents } from './events.js';
import {
  answersMessage,
  approvedPlanMessage,
  readPendingQuestion,
  readPlan,
  type ChatPlan,
} from './plan-mode.js';
import type { ChatService } from './service.js';
import { insertUserMessageAndSetPending } from './transitions.js';

const MAX_ANSWER_LENGTH = 10_000;
const MAX_FEEDBACK_LENGTH = 10_000;

export interface PlanServiceOptions {
  chats: Pick<ChatService, 'sendMessage'>;
  /** B28: approving starts a turn, so the same limit as sendMessage applies. */
  assertWithinUsageLimit(userId: string): Promise<void>;
}

/**
 * The user's side of PLAN mode (B20): answering ask_user_question and approving a proposed plan.
 * Both start the next turn like sendMessage; approving also switches the chat to DEFAULT.
 */
export function createPlanService(deps: Deps, options: PlanServiceOptions) {
  const { prisma, pubsub, logger } = deps;
  const events = createChatEvents(deps);
  const publish = (what: string, work: () => Promise<unknown>) =>
    work().catch((error: unknown) => logger.warn('publish failed', { what, error }));

  return {
    /** One answer per question, in order; sent as the next USER message (which clears it). */
    async answerQuestion(viewer: Viewer, chatId: string, answers: string[]) {
      const chat = await loadChatForWrite(prisma, viewer, chatId);
      const pending = readPendingQuestion(chat.pendingQuestion);
      if (!pending) throw conflict('The chat has no pending question');
      if (answers.length !== pending.questions.length) {
        throw badInput(
          'answers',
          `Give one answer per question (${pending.questions.length}), in order`,
        );
      }
      for (const answer of answers) {
        if (answer.trim().length === 0 || answer.length > MAX_ANSWER_LENGTH) {
          throw badInput('answers', `Every answer must be 1-${MAX_ANSWER_LENGTH} characters`);
        }
      }
      return options.chats.sendMessage(viewer, {
        chatId: chat.id,
        text: answersMessage(pending, answers),
      });
    },

    /**
     * Switches the chat to DEFAULT and starts the implementation turn with the approved plan in
     * its prompt. Refused (CONFLICT) without a plan awaiting approval or while a turn runs.
     */
    async approvePlan(viewer: Viewer, chatId: string, feedback?: string | null) {
      const note = feedback?.trim() ? feedback.trim() : null;
      if (note && note.length > MAX_FEEDBACK_LENGTH) {
        throw badInput('feedback', `feedback must be at most ${MAX_FEEDBACK_LENGTH} characters`);
      }
      await loadChatForWrite(prisma, viewer, chatId);
      await options.assertWithinUsageLimit(viewer.id);
      const { chat, message } = await prisma.$transaction(async (tx) => {
        const locked = await lockChat(tx, viewer, chatId);
        const plan = readPlan(locked.plan);
        if (!plan || plan.approvedAt) throw conflict('The chat has no plan awaiting approval');
        if (locked.archived) throw conflict('Chat is archived; unarchive it first');
        if (locked.status === 'RUNNING' || locked.status === 'PENDING') {
          throw conflict('A turn is running: wait for it to end or interrupt it first');
        }
        const approved: ChatPlan = { ...plan, approvedAt: new Date().toISOString() };
        await tx.chat.update({
          where: { id: locked.id },
          data: { mode: 'DEFAULT', plan: approved as unknown as Prisma.InputJsonValue },
        });
        return insertUserMessageAndSetPending(
          tx,
          locked.id,
          approvedPlanMessage(approved, note),
          viewer.id,
        );
      });
      await publish('plan approved', async () => {
        await events.message(message);
        await events.status(chat);
        await events.list(chat.ownerId, 'UPDATED', chat.id);
      });
      await publish('daemon wake', () =>
        pubsub.publish(topics.daemonWake(), { reason: 'chat pending' }),
      );
      return chat;
    },
  };
}

export type PlanService = ReturnType<typeof createPlanService>;
