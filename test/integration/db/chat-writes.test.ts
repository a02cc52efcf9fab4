import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPendingChat,
  insertUserMessageAndSetPending,
  sendToIdleChat,
} from '../../../src/chats/transitions.js';
import type { ChatStatus } from '../../../src/generated/prisma/client.js';
import { backend, openMigratedDatabase, type MigratedDatabase } from '../../support/backend.js';

/**
 * The API's chat writes on the driver (issue #9): createPendingChat and sendToIdleChat are one
 * statement each, and must return exactly the rows Prisma reads back, and leave a chat exactly
 * as the transaction's insertUserMessageAndSetPending does.
 */
describe(`chat writes on the driver (${backend})`, () => {
  let database: MigratedDatabase;
  let ownerId: string;
  let otherId: string;

  beforeAll(async () => {
    database = await openMigratedDatabase();
    const { prisma } = database;
    ownerId = (await prisma.user.create({ data: { username: 'owner', role: 'MEMBER' } })).id;
    otherId = (await prisma.user.create({ data: { username: 'other', role: 'MEMBER' } })).id;
  });
  afterAll(() => database?.dispose());

  /** A chat in `status` with everything a USER message resets set. */
  async function chatIn(status: ChatStatus, extra: { archived?: boolean; deleted?: boolean } = {}) {
    return database.prisma.chat.create({
      data: {
        ownerId,
        title: 't',
        status,
        lastError: 'failed',
        interruptRequest: 'PAUSE',
        pendingQuestion: { questions: ['?'] },
        labels: { k: 'v' },
        archived: extra.archived ?? false,
        deletedAt: extra.deleted ? new Date() : null,
      },
    });
  }

  it('createPendingChat returns the chat and message as Prisma reads them, in one statement', async () => {
    const { prisma, sql } = database;
    const before = database.statementCount();
    const { chat, message } = await createPendingChat(
      sql,
      { ownerId, title: 'new', mode: 'PLAN', labels: { a: 'b' } },
      'hello',
      ownerId,
    );
    expect(database.statementCount() - before).toBe(1);
    expect(chat).toStrictEqual({
      ...(await prisma.chat.findUniqueOrThrow({ where: { id: chat.id } })),
    });
    expect(message).toStrictEqual({
      ...(await prisma.chatMessage.findUniqueOrThrow({ where: { id: message.id } })),
    });
    expect(chat).toMatchObject({ status: 'PENDING', mode: 'PLAN', labels: { a: 'b' } });
    expect(message.parts).toEqual([{ type: 'TEXT', text: 'hello' }]);
  });

  it('sendToIdleChat leaves a chat as the transaction does and returns Prisma’s rows', async () => {
    const { prisma, sql } = database;
    const viaStatement = await chatIn('ERROR');
    const viaTransaction = await chatIn('ERROR');
    const before = database.statementCount();
    const sent = await sendToIdleChat(sql, viaStatement.id, ownerId, 'again', [], []);
    expect(database.statementCount() - before).toBe(1);
    const done = await prisma.$transaction((tx) =>
      insertUserMessageAndSetPending(tx, viaTransaction.id, 'again', ownerId),
    );
    const read = await prisma.chat.findUniqueOrThrow({ where: { id: viaStatement.id } });
    expect(sent!.chat).toStrictEqual({ ...read });
    expect(sent!.message).toStrictEqual({
      ...(await prisma.chatMessage.findUniqueOrThrow({ where: { id: sent!.message.id } })),
    });
    const comparable = ({ id, createdAt, updatedAt, lastActivityAt, ...rest }: typeof read) => {
      void [id, createdAt, updatedAt, lastActivityAt];
      return rest;
    };
    expect(comparable(read)).toStrictEqual(comparable(done.chat));
    expect(read.lastActivityAt.getTime()).toBeGreaterThan(viaStatement.lastActivityAt.getTime());
    expect(read.updatedAt.getTime()).toBeGreaterThan(viaStatement.updatedAt.getTime());
    const { id: a, chatId: ca, createdAt: ta, ...message } = sent!.message;
    const { id: b, chatId: cb, createdAt: tb, ...same } = done.message;
    void [a, ca, ta, b, cb, tb];
    expect(message).toStrictEqual(same);
  });

  it('sendToIdleChat writes nothing and returns null unless the chat is idle, the owner’s and live', async () => {
    const { prisma, sql } = database;
    const declined = [
      await chatIn('RUNNING'),
      await chatIn('PENDING'),
      await chatIn('PAUSED'),
      await chatIn('WAITING', { archived: true }),
      await chatIn('WAITING', { deleted: true }),
    ];
    for (const chat of declined) {
      expect(await sendToIdleChat(sql, chat.id, ownerId, 'no', [], [])).toBeNull();
    }
    const others = await chatIn('WAITING');
    expect(await sendToIdleChat(sql, others.id, otherId, 'no', [], [])).toBeNull();
    const ids = [...declined, others].map((chat) => chat.id);
    expect(await prisma.chatMessage.count({ where: { chatId: { in: ids } } })).toBe(0);
    const after = await prisma.chat.findMany({
      where: { id: { in: ids } },
      orderBy: { id: 'asc' },
    });
    expect(after).toEqual([...declined, others].sort((x, y) => (x.id < y.id ? -1 : 1)));
  });
});
