import { z } from 'zod';
import type { Deps, Viewer } from '../deps.js';
import { isAdmin } from '../deps.js';
import { isUuid } from '../db/ids.js';
import { isUniqueViolation } from '../db/errors.js';
import type { PrismaClient } from '../db/client.js';
import type { Sql } from '../db/sql.js';
import { AppError, forbidden, notFound } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { integerFrom, numberFrom, parseInput, withDefault } from '../parse-input.js';
import type { UsagePayload } from '../pubsub/index.js';
import { requireAdmin } from '../users/service.js';

/**
 * Usage limits (B28) and insights (B27), both summed in SQL over chat_messages (deleted messages
 * included), each message attributed to the owner of its chat.
 *
 * Limit periods are rolling windows: the last `periodDays` days ending now. Unlike calendar
 * periods they need no time zone and have no month-start cliff where everyone's budget resets at
 * once; the cost is that spend "expires" gradually rather than on a known date.
 */
export const PERIOD_DAYS_MIN = 1;
export const PERIOD_DAYS_MAX = 366;
/**
 * Highest usage limit, in micro-dollars ($1e9): far above any real budget, and far inside the
 * integers a double holds exactly, so spent-vs-limit comparisons stay exact.
 */
export const MAX_LIMIT_MICROS = 1e15;

/** The window usageLimitStatus reports when no limit applies. */
export const NO_LIMIT_PERIOD_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

const setUsageLimitSchema = z
  .object({
    periodDays: integerFrom(
      PERIOD_DAYS_MIN,
      PERIOD_DAYS_MAX,
      `periodDays must be an integer from ${PERIOD_DAYS_MIN} to ${PERIOD_DAYS_MAX}`,
    ),
    limitMicros: withDefault(
      numberFrom(
        0,
        MAX_LIMIT_MICROS,
        `limitMicros must be a number from 0 to ${MAX_LIMIT_MICROS}, or null`,
      ),
      null,
    ),
    userId: withDefault(z.string(), null),
    unlimited: withDefault(z.boolean(), false),
  })
  .check((ctx) => {
    const { userId, limitMicros, unlimited } = ctx.value;
    const problem = !unlimited
      ? null
      : userId === null
        ? 'unlimited needs a userId: the default cannot be "no limit"'
        : limitMicros !== null
          ? 'give either limitMicros or unlimited, not both'
          : null;
    if (problem) {
      ctx.issues.push({ code: 'custom', message: problem, input: unlimited, path: ['unlimited'] });
    }
  });

const insightsSchema = z.object({
  range: z
    .object({ from: z.date(), to: z.date() })
    .refine(({ from, to }) => from.getTime() < to.getTime(), 'range.from must be before range.to'),
  userId: z.string().nullish(),
});

export interface SetUsageLimitInput {
  /** Null or absent: the default for every user without a limit of their own. */
  userId?: string | null;
  /** Null or absent removes the limit (a user's removed limit falls back to the default). */
  limitMicros?: number | null;
  /**
   * True: the user (userId required, limitMicros absent) has no limit, the default
   * notwithstanding (an admin exempts a user). Stored as the user's row with a null limit.
   */
  unlimited?: boolean | null;
  periodDays: number;
}

export interface UsageLimitStatus {
  /** Null when no limit applies. */
  limitMicros: number | null;
  spentMicros: number;
  periodDays: number;
  periodStart: Date;
  periodEnd: Date;
}

export interface TimeRange {
  from: Date;
  to: Date;
}

export interface ModelUsageRow {
  modelConfigId: string;
  usage: UsagePayload;
  messages: number;
}
export interface UserUsageRow {
  userId: string;
  usage: UsagePayload;
  chats: number;
}
export interface DayUsageRow {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  usage: UsagePayload;
}

/**
 * `totals`, `chats` and `messages` count every message in the range; `byModel` only messages with
 * a model config. Usage is carried by ASSISTANT messages, which always have one, while USER and
 * TOOL messages carry zero usage, so totals still equal the sums of byModel, byUser and byDay.
 */
export interface InsightsResult {
  totals: UsagePayload;
  chats: number;
  messages: number;
  byModel: ModelUsageRow[];
  byUser: UserUsageRow[];
  byDay: DayUsageRow[];
}

export function createUsageService({ prisma, sql }: Pick<Deps, 'prisma' | 'sql'>) {
  return {
    /** Admin only. Returns true; a rejected call changes nothing. */
    async setUsageLimit(viewer: Viewer, input: SetUsageLimitInput): Promise<boolean> {
      requireAdmin(viewer);
      const { periodDays, limitMicros, userId, unlimited } = parseInput(setUsageLimitSchema, input);
      if (userId !== null) {
        const user = isUuid(userId)
          ? await prisma.user.findUnique({ where: { id: userId } })
          : null;
        if (!user) throw notFound('User');
      }

      if (limitMicros === null && !unlimited) {
        await prisma.usageLimit.deleteMany({ where: { userId } });
      } else if (userId !== null) {
        await prisma.usageLimit.upsert({
          where: { userId },
          create: { userId, limitMicros, periodDays },
          update: { limitMicros, periodDays },
        });
      } else if (limitMicros !== null) {
        // (unlimited needs a userId, checked above: the default always has a number)
        await setDefaultLimit(prisma, limitMicros, periodDays);
      }
      return true;
    },

    /** The viewer's limit (their own, else the default) and what they spent in its period. */
    usageLimitStatus: (viewer: Viewer) => usageLimitStatus(prisma, viewer.id),

    /** For the chats service, before createChat and sendMessage (B28). */
    assertWithinUsageLimit: (userId: string) => assertWithinUsageLimit(sql, userId),

    /**
     * Usage in [range.from, range.to). Members see only their own (passing another user's id is
     * FORBIDDEN); admins see everyone's, or one user's with userId.
     */
    async insights(
      viewer: Viewer,
      args: { range: TimeRange; userId?: string | null },
    ): Promise<InsightsResult> {
      const { range, userId } = parseInput(insightsSchema, args);
      let ownerId: string | null;
      if (!isAdmin(viewer)) {
        if (userId != null && userId !== viewer.id) {
          throw forbidden("Only an admin can see other users' usage");
        }
        ownerId = viewer.id;
      } else {
        ownerId = userId ?? null;
        if (ownerId !== null) {
          const user = isUuid(ownerId)
            ? await prisma.user.findUnique({ where: { id: ownerId } })
            : null;
          if (!user) throw notFound('User');
        }
      }
      return aggregateInsights(prisma, { ...range, ownerId });
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;

/** The limit that applies to a user: their own, else the default, else none. */
async function effectiveLimit(prisma: PrismaClient, userId: string) {
  const limits = await prisma.usageLimit.findMany({
    where: { OR: [{ userId }, { userId: null }] },
  });
  return limits.find((limit) => limit.userId === userId) ?? limits[0] ?? null;
}

export async function usageLimitStatus(
  prisma: PrismaClient,
  userId: string,
  now = new Date(),
): Promise<UsageLimitStatus> {
  const limit = await effectiveLimit(prisma, userId);
  const periodDays = limit?.periodDays ?? NO_LIMIT_PERIOD_DAYS;
  const periodStart = new Date(now.getTime() - periodDays * DAY_MS);
  const spent = await prisma.chatMessage.aggregate({
    _sum: { costMicros: true },
    where: { chat: { ownerId: userId }, createdAt: { gte: periodStart, lte: now } },
  });
  return {
    limitMicros: limit?.limitMicros ?? null,
    spentMicros: spent._sum.costMicros ?? 0,
    periodDays,
    periodStart,
    periodEnd: now,
  };
}

/**
 * Throws USAGE_LIMIT_EXCEEDED when the user has spent their limit (spent >= limit; a limit of 0
 * blocks everything). Call it before inserting anything, so a rejected request changes nothing.
 */
export async function assertWithinUsageLimit(sql: Sql, userId: string): Promise<void> {
  // On every createChat and sendMessage, so one statement on the driver (issue #9): the
  // effective limit as in effectiveLimit (the user's own row sorts before the default's NULL),
  // and the spend summed only when a limit applies: no limit, no row, and no scan of the user's
  // messages.
  const now = new Date();
  const [status] = await sql.query<{
    limitMicros: number;
    periodDays: number;
    spentMicros: number;
  }>`
    WITH applied AS (
      SELECT limit_micros, period_days FROM usage_limits
      WHERE user_id = ${userId}::uuid OR user_id IS NULL
      ORDER BY user_id NULLS LAST
      LIMIT 1
    )
    SELECT applied.limit_micros AS "limitMicros", applied.period_days AS "periodDays",
           (SELECT COALESCE(SUM(m.cost_micros), 0)::float8
            FROM chat_messages m JOIN chats c ON c.id = m.chat_id
            WHERE c.owner_id = ${userId}::uuid
              AND m.created_at >= ${now}::timestamptz - applied.period_days * interval '24 hours'
              AND m.created_at <= ${now}::timestamptz) AS "spentMicros"
    FROM applied
    -- A user's row without a limit exempts them: no row, no scan of their messages.
    WHERE applied.limit_micros IS NOT NULL`;
  if (status && status.spentMicros >= status.limitMicros) {
    throw new AppError(
      'USAGE_LIMIT_EXCEEDED',
      `Usage limit reached: spent ${formatUsd(status.spentMicros)} of ${formatUsd(status.limitMicros)} in the last ${status.periodDays} days`,
    );
  }
}

/**
 * Dollars with cents, and with as many more digits (up to micro-dollars) as an amount needs:
 * a limit of 5000 micros reads "$0.005", not "$0.00".
 */
export function formatUsd(micros: number): string {
  const dollars = (micros / 1_000_000).toFixed(6).replace(/0+$/, '');
  const [whole, fraction = ''] = dollars.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

/**
 * The default limit lives in the one row with user_id NULL (a partial unique index allows only
 * one). Prisma cannot upsert on a NULL key, so update it, else insert; if another admin inserted
 * it meanwhile, the insert fails on that index and the update is retried.
 */
async function setDefaultLimit(prisma: PrismaClient, limitMicros: number, periodDays: number) {
  const update = () =>
    prisma.usageLimit.updateMany({ where: { userId: null }, data: { limitMicros, periodDays } });
  if ((await update()).count > 0) return;
  try {
    await prisma.usageLimit.create({ data: { userId: null, limitMicros, periodDays } });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await update();
  }
}

interface InsightRow {
  grouping: number;
  model_config_id: string | null;
  owner_id: string | null;
  day: string | null;
  input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_micros: number;
  messages: number;
  chats: number;
}

/** GROUPING(model_config_id, owner_id, day): a bit is set for each column summed over. */
const GROUPED_BY = { total: 0b111, model: 0b011, owner: 0b101, day: 0b110 } as const;

/**
 * One statement computes the totals and the three breakdowns (GROUPING SETS), so they come from
 * the same snapshot and always agree, even while messages are being inserted.
 */
async function aggregateInsights(
  prisma: PrismaClient,
  { from, to, ownerId }: TimeRange & { ownerId: string | null },
): Promise<InsightsResult> {
  const ownerFilter =
    ownerId === null ? Prisma.empty : Prisma.sql`AND c.owner_id = ${ownerId}::uuid`;
  const rows = await prisma.$queryRaw<InsightRow[]>`
    SELECT
      GROUPING(model_config_id, owner_id, day)::int AS grouping,
      model_config_id::text AS model_config_id,
      owner_id::text AS owner_id,
      day,
      COALESCE(SUM(input_tokens), 0)::float8 AS input_tokens,
      COALESCE(SUM(output_tokens), 0)::float8 AS output_tokens,
      COALESCE(SUM(reasoning_tokens), 0)::float8 AS reasoning_tokens,
      COALESCE(SUM(cache_read_tokens), 0)::float8 AS cache_read_tokens,
      COALESCE(SUM(cache_write_tokens), 0)::float8 AS cache_write_tokens,
      COALESCE(SUM(cost_micros), 0)::float8 AS cost_micros,
      COUNT(*)::int AS messages,
      COUNT(DISTINCT chat_id)::int AS chats
    FROM (
      SELECT
        m.chat_id, m.model_config_id, c.owner_id,
        to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
        m.input_tokens, m.output_tokens, m.reasoning_tokens,
        m.cache_read_tokens, m.cache_write_tokens, m.cost_micros
      FROM chat_messages m
      JOIN chats c ON c.id = m.chat_id
      WHERE m.created_at >= ${from}::timestamptz AND m.created_at < ${to}::timestamptz
      ${ownerFilter}
    ) scoped
    GROUP BY GROUPING SETS ((), (model_config_id), (owner_id), (day))
  `;

  const result: InsightsResult = {
    totals: usageOf(undefined),
    chats: 0,
    messages: 0,
    byModel: [],
    byUser: [],
    byDay: [],
  };
  for (const row of rows) {
    const grouping = Number(row.grouping);
    if (grouping === GROUPED_BY.total) {
      result.totals = usageOf(row);
      result.chats = Number(row.chats);
      result.messages = Number(row.messages);
    } else if (grouping === GROUPED_BY.model && row.model_config_id !== null) {
      // The NULL group (USER and TOOL messages) carries no usage and has no model to show.
      result.byModel.push({
        modelConfigId: row.model_config_id,
        usage: usageOf(row),
        messages: Number(row.messages),
      });
    } else if (grouping === GROUPED_BY.owner && row.owner_id !== null) {
      result.byUser.push({ userId: row.owner_id, usage: usageOf(row), chats: Number(row.chats) });
    } else if (grouping === GROUPED_BY.day && row.day !== null) {
      result.byDay.push({ day: row.day, usage: usageOf(row) });
    }
  }
  const byCostDesc = (a: { usage: UsagePayload }, b: { usage: UsagePayload }) =>
    b.usage.costMicros - a.usage.costMicros;
  result.byModel.sort(byCostDesc);
  result.byUser.sort(byCostDesc);
  result.byDay.sort((a, b) => a.day.localeCompare(b.day));
  return result;
}

function usageOf(row: InsightRow | undefined): UsagePayload {
  return {
    inputTokens: Number(row?.input_tokens ?? 0),
    outputTokens: Number(row?.output_tokens ?? 0),
    reasoningTokens: Number(row?.reasoning_tokens ?? 0),
    cacheReadTokens: Number(row?.cache_read_tokens ?? 0),
    cacheWriteTokens: Number(row?.cache_write_tokens ?? 0),
    costMicros: Number(row?.cost_micros ?? 0),
  };
}
