import {
  readPendingQuestion,
  readPlan,
  type ChatPlan,
  type PendingQuestion,
  type PlanQuestion,
  type QuestionOption,
} from '../../chats/plan-mode.js';
import { builder } from '../builder.js';
import { chatMutationField } from './chat-mutation.js';
import { ChatType } from './chats.js';

/** PLAN mode as the seeds run it (B20): the pending question, the proposed plan, their events. */

const QuestionOptionType = builder.objectRef<QuestionOption>('QuestionOption').implement({
  fields: (t) => ({
    label: t.exposeString('label'),
    description: t.exposeString('description'),
  }),
});

const QuestionType = builder.objectRef<PlanQuestion>('Question').implement({
  fields: (t) => ({
    header: t.exposeString('header', { description: 'A short label (a few words).' }),
    question: t.exposeString('question'),
    options: t.field({ type: [QuestionOptionType], resolve: (question) => question.options }),
  }),
});

export const PendingQuestionType = builder.objectRef<PendingQuestion>('PendingQuestion').implement({
  description: 'What ask_user_question asked; the chat WAITs until answerQuestion or a message.',
  fields: (t) => ({
    questions: t.field({ type: [QuestionType], resolve: (pending) => pending.questions }),
    askedAt: t.field({ type: 'DateTime', resolve: (pending) => pending.askedAt }),
  }),
});

export const ChatPlanType = builder.objectRef<ChatPlan>('ChatPlan').implement({
  description: 'The last plan propose_plan stored; approvePlan implements it.',
  fields: (t) => ({
    title: t.exposeString('title'),
    body: t.exposeString('body', { description: 'Markdown.' }),
    path: t.exposeString('path', {
      nullable: true,
      description: 'The plan file in the workspace; null when the chat had no workspace.',
    }),
    proposedAt: t.field({ type: 'DateTime', resolve: (plan) => plan.proposedAt }),
    approvedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (plan) => plan.approvedAt,
    }),
  }),
});

export const QuestionEventType = builder
  .objectRef<{ __typename: 'QuestionEvent'; chatId: string; pendingQuestion: PendingQuestion }>(
    'QuestionEvent',
  )
  .implement({
    fields: (t) => ({
      chatId: t.exposeID('chatId'),
      pendingQuestion: t.field({
        type: PendingQuestionType,
        resolve: (event) => event.pendingQuestion,
      }),
    }),
  });

export const PlanEventType = builder
  .objectRef<{ __typename: 'PlanEvent'; chatId: string; plan: ChatPlan }>('PlanEvent')
  .implement({
    fields: (t) => ({
      chatId: t.exposeID('chatId'),
      plan: t.field({ type: ChatPlanType, resolve: (event) => event.plan }),
    }),
  });

builder.objectFields(ChatType, (t) => ({
  pendingQuestion: t.field({
    type: PendingQuestionType,
    nullable: true,
    resolve: (chat) => readPendingQuestion(chat.pendingQuestion),
  }),
  plan: t.field({
    type: ChatPlanType,
    nullable: true,
    resolve: (chat) => readPlan(chat.plan),
  }),
}));

chatMutationField('answerQuestion', {
  description:
    "Answers the chat's pending question (one answer per question, in order) and continues. " +
    'Any sendMessage answers it too.',
  args: (arg) => ({
    chatId: arg.id({ required: true }),
    answers: arg.stringList({ required: true }),
  }),
  run: async (args, ctx) =>
    (await ctx.services.plans.answerQuestion(ctx.viewer, args.chatId, args.answers)).chat,
});
chatMutationField('approvePlan', {
  description:
    'Approves the proposed plan: the chat switches to DEFAULT and implements it (the plan and ' +
    'the optional feedback are in the prompt). Sending a message instead keeps planning.',
  args: (arg) => ({ chatId: arg.id({ required: true }), feedback: arg.string() }),
  run: (args, ctx) => ctx.services.plans.approvePlan(ctx.viewer, args.chatId, args.feedback),
});
