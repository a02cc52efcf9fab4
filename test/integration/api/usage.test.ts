import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { assertWithinUsageLimit } from '../../../src/usage/service.js';
import type { TestClient } from '../../support/client.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const USAGE =
  'inputTokens outputTokens reasoningTokens cacheReadTokens cacheWriteTokens totalTokens costMicros';
const INSIGHTS = `query ($range: TimeRange!, $userId: ID) {
  insights(range: $range, userId: $userId) {
    totals { ${USAGE} }
    chats
    messages
    byModel { modelConfig { id model } usage { ${USAGE} } messages }
    byUser { user { id username } usage { ${USAGE} } chats }
    byDay { day usage { ${USAGE} } }
  }
}`;
const STATUS = '{ usageLimitStatus { limitMicros spentMicros periodStart periodEnd } }';
const SET_LIMIT = 'mutation ($input: SetUsageLimitInput!) { setUsageLimit(input: $input) }';

interface Usage {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  totalTokens: number;
  costMicros: number;
}
interface Insights {
  totals: Usage;
  chats: number;
  messages: number;
  byModel: { modelConfig: { id: string; model: string }; usage: Usage; messages: number }[];
  byUser: { user: { id: string; username: string }; usage: Usage; chats: number }[];
  byDay: { day: string; usage: Usage }[];
}
interface Status {
  limitMicros: number | null;
  spentMicros: number;
  periodStart: string;
  periodEnd: string;
}

const USAGE_KEYS = [
  'inputTokens',
  'outputTokens',
  'reasoningTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'totalTokens',
  'costMicros',
] as const;

function sumUsage(rows: { usage: Usage }[]): Usage {
  const sum = Object.fromEntries(USAGE_KEYS.map((key) => [key, 0])) as Record<
    (typeof USAGE_KEYS)[number],
    number
  >;
  for (const row of rows) for (const key of USAGE_KEYS) sum[key] += row.usage[key];
  return sum;
}

describe('usage limits and insights (B27, B28)', () => {
  let server: TestServer;
  const prisma = () => server.app.deps.prisma;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
  });
  afterAll(() => server?.close());

  async function createModelConfig(model: string) {
    const provider = await server.admin.query<{ createProvider: { id: string } }>(
      'mutation { createProvider(input: { kind: OPENAI, displayName: "P" }) { id } }',
    );
    const config = await server.admin.query<{ createModelConfig: { id: string } }>(
      `mutation ($providerId: ID!, $model: String!) {
        createModelConfig(input: { providerId: $providerId, model: $model, contextLimit: 1000 }) { id }
      }`,
      { providerId: provider.createProvider.id, model },
    );
    return config.createModelConfig.id;
  }

  const createChat = (ownerId: string) =>
    prisma()
      .chat.create({ data: { ownerId, title: 'seeded', status: 'WAITING' } })
      .then((chat) => chat.id);

  interface SeedMessage {
    role?: 'USER' | 'ASSISTANT' | 'TOOL';
    modelConfigId?: string;
    at: Date;
    input?: number;
    output?: number;
    reasoning?: number;
    cacheRead?: number;
    cacheWrite?: number;
    cost?: number;
    deleted?: boolean;
  }

  const addMessage = (chatId: string, message: SeedMessage) =>
    prisma().chatMessage.create({
      data: {
        chatId,
        role: message.role ?? 'ASSISTANT',
        parts: [{ type: 'TEXT', text: 'seeded' }],
        modelConfigId: message.modelConfigId ?? null,
        inputTokens: message.input ?? 0,
        outputTokens: message.output ?? 0,
        reasoningTokens: message.reasoning ?? 0,
        cacheReadTokens: message.cacheRead ?? 0,
        cacheWriteTokens: message.cacheWrite ?? 0,
        costMicros: message.cost ?? 0,
        deleted: message.deleted ?? false,
        createdAt: message.at,
      },
    });

  describe('insights', () => {
    const range = { from: '2024-03-10T00:00:00.000Z', to: '2024-03-12T00:00:00.000Z' };
    let alice: { id: string; client: TestClient };
    let bob: { id: string; client: TestClient };
    let m1: string;
    let m2: string;

    beforeAll(async () => {
      alice = await server.createMember('alice');
      bob = await server.createMember('bob');
      m1 = await createModelConfig('model-one');
      m2 = await createModelConfig('model-two');
      const a1 = await createChat(alice.id);
      const a2 = await createChat(alice.id);
      const b1 = await createChat(bob.id);
      await addMessage(a1, { role: 'USER', at: new Date('2024-03-10T10:00:00Z') });
      await addMessage(a1, {
        modelConfigId: m1,
        at: new Date('2024-03-10T10:01:00Z'),
        input: 100,
        output: 50,
        reasoning: 10,
        cacheRead: 20,
        cacheWrite: 5,
        cost: 1000,
      });
      // Deleted messages still count (B12, B27).
      await addMessage(a1, {
        modelConfigId: m2,
        at: new Date('2024-03-11T09:00:00Z'),
        input: 200,
        output: 80,
        cost: 2500,
        deleted: true,
      });
      await addMessage(a2, {
        modelConfigId: m1,
        at: new Date('2024-03-11T23:59:59.999Z'),
        input: 10,
        output: 5,
        cost: 100,
      });
      // The range is [from, to): the first instant is in, the last is out.
      await addMessage(b1, {
        modelConfigId: m2,
        at: new Date('2024-03-10T00:00:00.000Z'),
        input: 1000,
        output: 500,
        cost: 7000,
      });
      await addMessage(b1, { role: 'TOOL', at: new Date('2024-03-11T12:00:00Z') });
      await addMessage(b1, {
        modelConfigId: m1,
        at: new Date('2024-03-12T00:00:00.000Z'),
        input: 9999,
        cost: 99_999,
      });
      await addMessage(b1, {
        modelConfigId: m1,
        at: new Date('2024-03-09T23:59:59.999Z'),
        input: 9999,
        cost: 99_999,
      });
    });

    function expectConsistent(insights: Insights) {
      expect(sumUsage(insights.byModel)).toEqual(insights.totals);
      expect(sumUsage(insights.byUser)).toEqual(insights.totals);
      expect(sumUsage(insights.byDay)).toEqual(insights.totals);
    }

    it("gives admins everyone's usage, with totals equal to every breakdown", async () => {
      const { insights } = await server.admin.query<{ insights: Insights }>(INSIGHTS, { range });
      expect(insights.totals).toEqual({
        inputTokens: 1310,
        outputTokens: 635,
        reasoningTokens: 10,
        cacheReadTokens: 20,
        cacheWriteTokens: 5,
        totalTokens: 1970,
        costMicros: 10_600,
      });
      expect(insights.chats).toBe(3);
      expect(insights.messages).toBe(6);
      expectConsistent(insights);

      expect(
        insights.byModel.map((row) => [row.modelConfig.id, row.usage.costMicros, row.messages]),
      ).toEqual([
        [m2, 9500, 2],
        [m1, 1100, 2],
      ]);
      expect(
        insights.byUser.map((row) => [row.user.username, row.usage.costMicros, row.chats]),
      ).toEqual([
        ['bob', 7000, 1],
        ['alice', 3600, 2],
      ]);
      expect(
        insights.byDay.map((row) => [row.day, row.usage.costMicros, row.usage.inputTokens]),
      ).toEqual([
        ['2024-03-10', 8000, 1100],
        ['2024-03-11', 2600, 210],
      ]);
    });

    it('shows members only their own usage', async () => {
      const { insights } = await alice.client.query<{ insights: Insights }>(INSIGHTS, { range });
      expect(insights.totals.costMicros).toBe(3600);
      expect(insights.chats).toBe(2);
      expect(insights.messages).toBe(4);
      expect(insights.byUser.map((row) => row.user.id)).toEqual([alice.id]);
      expect(insights.byModel.map((row) => [row.modelConfig.id, row.usage.costMicros])).toEqual([
        [m2, 2500],
        [m1, 1100],
      ]);
      expectConsistent(insights);

      const own = await alice.client.query<{ insights: Insights }>(INSIGHTS, {
        range,
        userId: alice.id,
      });
      expect(own.insights).toEqual(insights);
    });

    it("forbids members another user's usage", async () => {
      const { codes } = await alice.client.expectError(INSIGHTS, { range, userId: bob.id });
      expect(codes).toEqual(['FORBIDDEN']);
    });

    it("lets admins narrow to one user's usage", async () => {
      const { insights } = await server.admin.query<{ insights: Insights }>(INSIGHTS, {
        range,
        userId: bob.id,
      });
      expect(insights.totals.costMicros).toBe(7000);
      expect(insights.messages).toBe(2);
      expect(insights.byUser.map((row) => row.user.id)).toEqual([bob.id]);
      expectConsistent(insights);
      const unknown = await server.admin.expectError(INSIGHTS, {
        range,
        userId: '00000000-0000-4000-8000-000000000000',
      });
      expect(unknown.codes).toEqual(['NOT_FOUND']);
    });

    it('answers an empty range with zeros', async () => {
      const { insights } = await server.admin.query<{ insights: Insights }>(INSIGHTS, {
        range: { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' },
      });
      expect(insights.totals.costMicros).toBe(0);
      expect(insights.totals.totalTokens).toBe(0);
      expect([insights.chats, insights.messages]).toEqual([0, 0]);
      expect([insights.byModel, insights.byUser, insights.byDay]).toEqual([[], [], []]);
    });

    it('rejects a range whose start is not before its end', async () => {
      for (const bad of [
        { from: range.to, to: range.from },
        { from: range.from, to: range.from },
      ]) {
        const { errors } = await server.admin.expectError(INSIGHTS, { range: bad });
        expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'range' });
      }
    });
  });

  describe('usage limits', () => {
    let carol: { id: string; client: TestClient };
    let dave: { id: string; client: TestClient };

    beforeAll(async () => {
      carol = await server.createMember('carol');
      dave = await server.createMember('dave');
      const now = Date.now();
      const carolChat = await createChat(carol.id);
      await addMessage(carolChat, { at: new Date(now - DAY_MS), cost: 300, deleted: true });
      await addMessage(carolChat, { at: new Date(now - 60 * 60 * 1000), cost: 200 });
      await addMessage(carolChat, { at: new Date(now - 40 * DAY_MS), cost: 5000 });
      const daveChat = await createChat(dave.id);
      await addMessage(daveChat, { at: new Date(now - 60 * 60 * 1000), cost: 10_000 });
    });
    beforeEach(async () => {
      await prisma().usageLimit.deleteMany();
    });

    const status = async (client: TestClient) =>
      (await client.query<{ usageLimitStatus: Status }>(STATUS)).usageLimitStatus;
    const windowDays = (s: Status) =>
      (Date.parse(s.periodEnd) - Date.parse(s.periodStart)) / DAY_MS;
    const setLimit = (input: Record<string, unknown>) =>
      server.admin.query<{ setUsageLimit: boolean }>(SET_LIMIT, { input });

    it('reports no limit and the last 30 days of spend when none is set', async () => {
      const s = await status(carol.client);
      expect(s.limitMicros).toBeNull();
      expect(s.spentMicros).toBe(500);
      expect(windowDays(s)).toBe(30);
      expect(Math.abs(Date.parse(s.periodEnd) - Date.now())).toBeLessThan(60_000);
      await expect(server.app.services.usage.assertWithinUsageLimit(carol.id)).resolves.toBe(
        undefined,
      );
    });

    it('applies the default limit over its period', async () => {
      expect((await setLimit({ limitMicros: 1000, periodDays: 7 })).setUsageLimit).toBe(true);
      const s = await status(carol.client);
      expect(s).toMatchObject({ limitMicros: 1000, spentMicros: 500 });
      expect(windowDays(s)).toBe(7);
      await expect(assertWithinUsageLimit(server.app.deps.sql, carol.id)).resolves.toBe(undefined);

      // A longer period reaches the old message: 5500 spent >= 1000.
      await setLimit({ limitMicros: 1000, periodDays: 60 });
      expect(await prisma().usageLimit.count()).toBe(1);
      expect((await status(carol.client)).spentMicros).toBe(5500);
      const rejected = server.app.services.usage.assertWithinUsageLimit(carol.id);
      await expect(rejected).rejects.toBeInstanceOf(AppError);
      await expect(rejected).rejects.toMatchObject({ code: 'USAGE_LIMIT_EXCEEDED' });
    });

    it("prefers a user's own limit, falling back to the default when it is removed", async () => {
      await setLimit({ limitMicros: 1000, periodDays: 60 });
      await setLimit({ userId: carol.id, limitMicros: 10_000, periodDays: 60 });
      expect(await status(carol.client)).toMatchObject({ limitMicros: 10_000, spentMicros: 5500 });
      await expect(assertWithinUsageLimit(server.app.deps.sql, carol.id)).resolves.toBe(undefined);
      expect(await status(dave.client)).toMatchObject({ limitMicros: 1000, spentMicros: 10_000 });
      await expect(assertWithinUsageLimit(server.app.deps.sql, dave.id)).rejects.toMatchObject({
        code: 'USAGE_LIMIT_EXCEEDED',
      });

      await setLimit({ userId: carol.id, limitMicros: null, periodDays: 60 });
      expect((await status(carol.client)).limitMicros).toBe(1000);
      await expect(assertWithinUsageLimit(server.app.deps.sql, carol.id)).rejects.toMatchObject({
        code: 'USAGE_LIMIT_EXCEEDED',
      });

      await setLimit({ limitMicros: null, periodDays: 1 });
      expect(await prisma().usageLimit.count()).toBe(0);
      expect((await status(dave.client)).limitMicros).toBeNull();
      await expect(assertWithinUsageLimit(server.app.deps.sql, dave.id)).resolves.toBe(undefined);
    });

    it('treats a limit of 0 as exhausted', async () => {
      const eve = await server.createMember('eve');
      await setLimit({ userId: eve.id, limitMicros: 0, periodDays: 30 });
      expect(await status(eve.client)).toMatchObject({ limitMicros: 0, spentMicros: 0 });
      await expect(assertWithinUsageLimit(server.app.deps.sql, eve.id)).rejects.toMatchObject({
        code: 'USAGE_LIMIT_EXCEEDED',
      });
    });

    it.each([
      ['periodDays', { limitMicros: 1000, periodDays: 0 }],
      ['periodDays', { limitMicros: 1000, periodDays: 367 }],
      ['limitMicros', { limitMicros: -1, periodDays: 30 }],
    ])('rejects a bad %s with BAD_USER_INPUT and changes nothing', async (field, input) => {
      await setLimit({ limitMicros: 500, periodDays: 10 });
      const before = await prisma().usageLimit.findMany();
      const { errors } = await server.admin.expectError(SET_LIMIT, { input });
      expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await prisma().usageLimit.findMany()).toEqual(before);
    });

    it('answers NOT_FOUND for an unknown user and changes nothing', async () => {
      for (const userId of ['00000000-0000-4000-8000-000000000000', 'garbage']) {
        const { codes } = await server.admin.expectError(SET_LIMIT, {
          input: { userId, limitMicros: 1, periodDays: 1 },
        });
        expect(codes).toEqual(['NOT_FOUND']);
      }
      expect(await prisma().usageLimit.count()).toBe(0);
    });

    it('forbids members to set limits and changes nothing', async () => {
      for (const input of [
        { limitMicros: 1_000_000, periodDays: 30 },
        { userId: carol.id, limitMicros: null, periodDays: 30 },
      ]) {
        const { codes } = await carol.client.expectError(SET_LIMIT, { input });
        expect(codes).toEqual(['FORBIDDEN']);
      }
      expect(await prisma().usageLimit.count()).toBe(0);
    });
  });
});
