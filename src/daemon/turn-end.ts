import type { ChatEvents } from '../chats/events.js';
import type { ChatPlan, PendingQuestion, TurnEnd } from '../chats/plan-mode.js';
import type { Prisma } from '../generated/prisma/client.js';

/** What a turn ended by a tool (B20) left on the chat, for the event published after commit. */
export type RecordedTurnEnd =
  { kind: 'question'; pendingQuestion: PendingQuestion } | { kind: 'plan'; plan: ChatPlan };

/**
 * Stores a question or a plan on the chat, inside finishTurn's transaction (under the lease), so
 * the chat is never WAITING without what it waits for. A new plan replaces the previous one.
 */
export async function recordTurnEnd(
  tx: Prisma.TransactionClient,
  chatId: string,
  endedBy: TurnEnd,
): Promise<RecordedTurnEnd> {
  const now = new Date().toISOString();
  if (endedBy.kind === 'question') {
    const pendingQuestion: PendingQuestion = { questions: endedBy.questions, askedAt: now };
    await tx.chat.update({
      where: { id: chatId },
      data: { pendingQuestion: pendingQuestion as unknown as Prisma.InputJsonValue },
    });
    return { kind: 'question', pendingQuestion };
  }
  const plan: ChatPlan = { ...endedBy.plan, proposedAt: now, approvedAt: null };
  await tx.chat.update({
    where: { id: chatId },
    data: { plan: plan as unknown as Prisma.InputJsonValue },
  });
  return { kind: 'plan', plan };
}

/** QuestionEvent / PlanEvent, after commit; a question already answered (queued message) is not. */
export async function publishTurnEnd(
  events: ChatEvents,
  chatId: string,
  recorded: RecordedTurnEnd,
  stillWaiting: boolean,
): Promise<void> {
  if (recorded.kind === 'plan') {
    await events.raw(chatId, { __typename: 'PlanEvent', chatId, plan: recorded.plan });
  } else if (stillWaiting) {
    await events.raw(chatId, {
      __typename: 'QuestionEvent',
      chatId,
      pendingQuestion: recorded.pendingQuestion,
    });
  }
}
