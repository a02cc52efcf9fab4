import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireChats } from '../../../src/db/chat-leases.js';
import { queuePositions } from '../../../src/db/fair-share.js';
import type { TestClient } from '../../support/client.js';
import { createChat, createDefaultModel } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Fair-share acquire (issue #13). The daemon is off: each acquireChats call below is one acquire
 * tick of a worker with that much free capacity, so "within one tick" is counted, not timed.
 */
const SET_CAP = `mutation ($cap: Int) {
  updateDeploymentSettings(input: { maxRunningChatsPerUser: $cap }) { maxRunningChatsPerUser } }`;
const QUEUE_POSITION = `query ($id: ID!) { chat(id: $id) { status queuePosition } }`;

describe('fair-share scheduling', () => {
  let server: TestServer;
  let userA: { id: string; client: TestClient };
  let userB: { id: string; client: TestClient };
  const prisma = () => server.app.deps.prisma;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
    userA = await server.createMember();
    userB = await server.createMember();
  });
  afterAll(() => server?.close());

  beforeEach(async () => {
    await prisma().chat.deleteMany({});
    await server.admin.query(SET_CAP, { cap: null });
  });

  /** `count` PENDING chats for the user, one millisecond apart (oldest first). */
  async function insertPending(ownerId: string, count: number, startMs = Date.now() - 3_600_000) {
    await prisma().chat.createMany({
      data: Array.from({ length: count }, (_, index) => ({
        ownerId,
        title: `chat ${index}`,
        status: 'PENDING' as const,
        createdAt: new Date(startMs + index),
      })),
    });
  }

  let worker = 0;
  /** One acquire tick with this much free capacity; returns the acquired chat ids in order. */
  const tick = async (capacity: number) =>
    (await acquireChats(server.app.deps.sql, `worker-${++worker}`, capacity)).map(
      (chat) => chat.chatId,
    );

  it("starts B's one chat within one tick while A holds 500 pending at full load", async () => {
    await insertPending(userA.id, 500);
    // Full load: A's oldest chats fill the worker; one slot frees up per tick from here on.
    const running = await tick(10);
    expect(running).toHaveLength(10);
    const b = await createChat(userB.client, { text: 'my turn?' });
    expect(b.status).toBe('PENDING');

    const position = await userB.client.query<{ chat: { queuePosition: number } }>(QUEUE_POSITION, {
      id: b.id,
    });
    expect(position.chat.queuePosition).toBe(0);
    // The StatusEvent carries it too (here the subscription's snapshot).
    const events = userB.client.subscribe<{
      chatEvents: { __typename: string; status?: string; queuePosition?: number | null };
    }>(
      `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) {
        __typename ... on StatusEvent { status queuePosition } } }`,
      { chatId: b.id },
    );
    try {
      const snapshot = await events.next((e) => e.chatEvents.__typename === 'StatusEvent');
      expect(snapshot.chatEvents).toMatchObject({ status: 'PENDING', queuePosition: 0 });
    } finally {
      await events.close();
    }

    let ticks = 0;
    let acquired: string[] = [];
    while (!acquired.includes(b.id) && ticks < 500) {
      acquired = await tick(1);
      ticks += 1;
    }
    expect(ticks).toBe(1);
    const after = await userB.client.query<{ chat: { status: string; queuePosition: null } }>(
      QUEUE_POSITION,
      { id: b.id },
    );
    expect(after.chat).toEqual({ status: 'RUNNING', queuePosition: null });
  });

  it('gives each next slot to the user with the fewest running chats, oldest first on ties', async () => {
    const start = Date.now() - 3_600_000;
    await insertPending(userA.id, 6, start);
    await insertPending(userB.id, 2, start + 100);
    // A's oldest first (both have 0 running, A's is older), then alternating while B has any.
    const order: string[] = [];
    for (let slot = 0; slot < 5; slot++) order.push(...(await tick(1)));
    expect(await ownersOf(order)).toEqual(['A', 'B', 'A', 'B', 'A']);
    // A batch takes the same chats as that many single ticks (RETURNING order is arbitrary).
    await prisma().chat.updateMany({ where: { id: { in: order } }, data: { status: 'PENDING' } });
    expect((await tick(5)).sort()).toEqual([...order].sort());
  });

  it('reports queue positions in the order chats are actually acquired', async () => {
    const start = Date.now() - 3_600_000;
    await insertPending(userA.id, 30, start);
    await tick(4); // A already runs four
    await insertPending(userB.id, 12, start + 50);
    const pending = await prisma().chat.findMany({
      where: { status: 'PENDING' },
      select: { id: true },
    });
    const positions = await queuePositions(
      prisma(),
      pending.map((chat) => chat.id),
    );
    expect(positions.size).toBe(pending.length);
    const predicted = [...positions].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(predicted.map((_, index) => positions.get(predicted[index]!))).toEqual(
      predicted.map((_, index) => index),
    );

    // Each batch is the next slice of the predicted order (a batch's RETURNING order is not).
    for (let from = 0; from < predicted.length; from += 7) {
      expect((await tick(7)).sort()).toEqual(predicted.slice(from, from + 7).sort());
    }
    expect(await tick(7)).toEqual([]);
  });

  it('holds a user at the per-user cap while others still start, and lifts it', async () => {
    await server.admin.query(SET_CAP, { cap: 2 });
    await insertPending(userA.id, 5);
    expect(await ownersOf(await tick(10))).toEqual(['A', 'A']);
    expect(await tick(10)).toEqual([]); // A is at the cap: its other three wait

    await insertPending(userB.id, 3);
    expect(await ownersOf(await tick(10))).toEqual(['B', 'B']);

    // One of A's finishes: exactly one more of A's may start.
    const runningA = await prisma().chat.findFirstOrThrow({
      where: { ownerId: userA.id, status: 'RUNNING' },
    });
    await prisma().chat.update({ where: { id: runningA.id }, data: { status: 'WAITING' } });
    expect(await ownersOf(await tick(10))).toEqual(['A']);

    await server.admin.query(SET_CAP, { cap: null });
    expect((await ownersOf(await tick(10))).sort()).toEqual(['A', 'A', 'B']);
  });

  it('never caps subagents, whose parent stays RUNNING while it waits for them', async () => {
    await server.admin.query(SET_CAP, { cap: 1 });
    await insertPending(userA.id, 1);
    const [parentId] = await tick(10);
    const child = await prisma().chat.create({
      data: { ownerId: userA.id, title: 'child', parentId, rootId: parentId },
    });
    expect(await tick(10)).toEqual([child.id]);
  });

  async function ownersOf(chatIds: string[]) {
    const rows = await prisma().chat.findMany({
      where: { id: { in: chatIds } },
      select: { id: true, ownerId: true },
    });
    const owner = new Map(rows.map((row) => [row.id, row.ownerId === userA.id ? 'A' : 'B']));
    return chatIds.map((id) => owner.get(id));
  }
});
