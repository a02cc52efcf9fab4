import type {
  DayUsageRow,
  InsightsResult,
  ModelUsageRow,
  UsageLimitStatus,
  UserUsageRow,
} from '../../usage/service.js';
import { builder } from '../builder.js';
import { UsageType } from './usage.js';

const ModelUsageType = builder.objectRef<ModelUsageRow>('ModelUsage').implement({
  fields: (t) => ({
    // Prisma batches these findUnique calls into one query per request.
    modelConfig: t.prismaField({
      type: 'ModelConfig',
      resolve: (query, row, _args, ctx) =>
        ctx.prisma.modelConfig.findUniqueOrThrow({ ...query, where: { id: row.modelConfigId } }),
    }),
    usage: t.field({ type: UsageType, resolve: (row) => row.usage }),
    messages: t.exposeInt('messages'),
  }),
});

const UserUsageType = builder.objectRef<UserUsageRow>('UserUsage').implement({
  fields: (t) => ({
    user: t.prismaField({
      type: 'User',
      resolve: (query, row, _args, ctx) =>
        ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: row.userId } }),
    }),
    usage: t.field({ type: UsageType, resolve: (row) => row.usage }),
    chats: t.exposeInt('chats'),
  }),
});

const DayUsageType = builder.objectRef<DayUsageRow>('DayUsage').implement({
  fields: (t) => ({
    day: t.exposeString('day', { description: 'UTC date, YYYY-MM-DD.' }),
    usage: t.field({ type: UsageType, resolve: (row) => row.usage }),
  }),
});

const InsightsType = builder.objectRef<InsightsResult>('Insights').implement({
  description:
    'Usage of the messages created in [range.from, range.to), deleted ones included, attributed to ' +
    'the chat owner. totals/chats/messages count every message; byModel only those with a model ' +
    'config (USER and TOOL messages carry no usage), so totals equal the sums of each breakdown.',
  fields: (t) => ({
    totals: t.field({ type: UsageType, resolve: (insights) => insights.totals }),
    chats: t.exposeInt('chats'),
    messages: t.exposeInt('messages'),
    byModel: t.field({ type: [ModelUsageType], resolve: (insights) => insights.byModel }),
    byUser: t.field({ type: [UserUsageType], resolve: (insights) => insights.byUser }),
    byDay: t.field({ type: [DayUsageType], resolve: (insights) => insights.byDay }),
  }),
});

const UsageLimitStatusType = builder.objectRef<UsageLimitStatus>('UsageLimitStatus').implement({
  description:
    'The viewer’s spend over a rolling window of the limit’s periodDays ending now (30 days when ' +
    'no limit applies).',
  fields: (t) => ({
    limitMicros: t.exposeFloat('limitMicros', {
      nullable: true,
      description: 'Null when no limit applies.',
    }),
    spentMicros: t.exposeFloat('spentMicros'),
    periodStart: t.expose('periodStart', { type: 'DateTime' }),
    periodEnd: t.expose('periodEnd', { type: 'DateTime' }),
  }),
});

const TimeRangeInput = builder.inputType('TimeRange', {
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', required: true, description: 'Exclusive.' }),
  }),
});

const SetUsageLimitInput = builder.inputType('SetUsageLimitInput', {
  fields: (t) => ({
    userId: t.id({ description: 'Null sets the default for every user.' }),
    limitMicros: t.float({
      description: "Null removes the limit (a user's removed limit falls back to the default).",
    }),
    unlimited: t.boolean({
      description:
        'True (with userId, without limitMicros): the user has no limit, whatever the default.',
    }),
    periodDays: t.int({ required: true, description: 'Rolling window in days, 1-366.' }),
  }),
});

builder.queryFields((t) => ({
  insights: t.field({
    type: InsightsType,
    description: "Members see their own usage; admins see everyone's, or one user's with userId.",
    args: {
      range: t.arg({ type: TimeRangeInput, required: true }),
      userId: t.arg.id(),
    },
    resolve: (_root, args, ctx) => ctx.services.usage.insights(ctx.viewer, args),
  }),
  usageLimitStatus: t.field({
    type: UsageLimitStatusType,
    resolve: (_root, _args, ctx) => ctx.services.usage.usageLimitStatus(ctx.viewer),
  }),
}));

builder.mutationField('setUsageLimit', (t) =>
  t.boolean({
    description: 'Admin only.',
    args: { input: t.arg({ type: SetUsageLimitInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.usage.setUsageLimit(ctx.viewer, input),
  }),
);
