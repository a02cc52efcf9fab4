import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endTurnWaiting, type Lease } from '../../../src/db/chat-leases.js';
import { backend, openMigratedDatabase, type MigratedDatabase } from '../../support/backend.js';

/**
 * The one-statement end of a turn (endTurnWaiting, issue #9) against the four-statement
 * transaction it replaces in the common case: it must decline (null, nothing written) whenever
 * that transaction would not end in WAITING, so the caller's full transition decides.
 */
describe(`endTurnWaiting (${backend})`, () => {
  let database: MigratedDatabase;
  let ownerId: string;

  beforeAll(async () => {
    database = await openMigratedDatabase();
    const owner = await database.prisma.user.create({
      data: { username: `end-turn-${backend}`, role: 'MEMBER' },
    });
    ownerId = owner.id;
  });
  afterAll(() => database?.dispose());

  /** A chat RUNNING under worker-a's lease at epoch 3. */
  async function runningChat(data: { archived?: boolean; interruptRequest?: string } = {}) {
    const chat = await database.prisma.chat.create({
      data: {
        ownerId,
        title: 'turn',
        status: 'RUNNING',
        workerId: 'worker-a',
        leaseEpoch: 3,
        startedAt: new Date(),
        heartbeatAt: new Date(),
        lastError: 'from before',
        ...data,
      },
    });
    return { chat, lease: { chatId: chat.id, workerId: 'worker-a', epoch: 3 } satisfies Lease };
  }

  const queue = (chatId: string) =>
    database.prisma.queuedMessage.create({ data: { chatId, text: 'next', position: 1 } });
  const row = (id: string) => database.prisma.chat.findUniqueOrThrow({ where: { id } });

  it('ends an owned chat with nothing queued WAITING, released, in one statement', async () => {
    const { chat, lease } = await runningChat({ interruptRequest: 'NEXT' });
    const before = database.statementCount();
    const waiting = await endTurnWaiting(database.sql, lease);
    expect(database.statementCount() - before).toBe(1);
    expect(waiting).toEqual({
      id: chat.id,
      ownerId,
      title: 'turn',
      status: 'WAITING',
      lastError: null,
    });
    expect(await row(chat.id)).toMatchObject({
      status: 'WAITING',
      workerId: null,
      startedAt: null,
      heartbeatAt: null,
      interruptRequest: null,
      lastError: null,
    });
  });

  it.each([
    ['another epoch', { epoch: 4 }],
    ['another worker', { workerId: 'worker-b' }],
  ])('writes nothing under a lost lease (%s)', async (_, change) => {
    const { chat, lease } = await runningChat();
    expect(await endTurnWaiting(database.sql, { ...lease, ...change })).toBeNull();
    expect(await row(chat.id)).toMatchObject({ status: 'RUNNING', workerId: 'worker-a' });
  });

  it('declines when a pause was asked for or a message is queued', async () => {
    const paused = await runningChat({ interruptRequest: 'PAUSE' });
    expect(await endTurnWaiting(database.sql, paused.lease)).toBeNull();
    expect(await row(paused.chat.id)).toMatchObject({
      status: 'RUNNING',
      interruptRequest: 'PAUSE',
    });

    const queued = await runningChat();
    await queue(queued.chat.id);
    expect(await endTurnWaiting(database.sql, queued.lease)).toBeNull();
    expect(await row(queued.chat.id)).toMatchObject({ status: 'RUNNING', workerId: 'worker-a' });
  });

  it('ends an archived chat WAITING although messages are queued (they wait for the user)', async () => {
    const { chat, lease } = await runningChat({ archived: true });
    await queue(chat.id);
    expect(await endTurnWaiting(database.sql, lease)).toMatchObject({ status: 'WAITING' });
    expect(await database.prisma.queuedMessage.count({ where: { chatId: chat.id } })).toBe(1);
  });

  /**
   * The race a plain `NOT EXISTS (queued_messages)` in the statement loses on Postgres: sendMessage
   * locks the chat row and queues a message; the end of turn starts meanwhile, with a snapshot
   * that predates the message, and waits for the lock. sendMessage commits; the lock is granted
   * (the row itself was only locked, not changed, so Postgres does not re-check it) and the
   * statement would set WAITING with the message stranded in the queue. On PGlite the statement
   * waits for the transaction before it starts, so this only shows that it sees the message.
   */
  it('sees a message queued by a transaction that held the chat lock while it waited', async () => {
    const { chat, lease } = await runningChat();
    let ending: Promise<unknown> | undefined;
    await database.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM chats WHERE id = ${chat.id}::uuid FOR UPDATE`;
      await tx.queuedMessage.create({ data: { chatId: chat.id, text: 'queued', position: 1 } });
      ending = endTurnWaiting(database.sql, lease);
      await untilWaitingForLock();
    });
    expect(await ending).toBeNull();
    expect(await row(chat.id)).toMatchObject({ status: 'RUNNING', workerId: 'worker-a' });
  });

  /**
   * Postgres: until endTurnWaiting's statement waits for a lock (nothing else in this database
   * can). PGlite: it cannot run before the transaction ends anyway.
   */
  async function untilWaitingForLock() {
    if (backend !== 'services') return;
    for (;;) {
      const [waiting] = await database.sql.query<{ count: number }>`
        SELECT count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      if (waiting!.count > 0) return;
      // Nothing to await: the wait is only visible in pg_stat_activity.
      await delay(5);
    }
  }
});
