import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MESSAGE_COLUMNS } from '../../../src/db/chat-leases.js';
import { openDatabase } from '../../../src/db/client.js';
import { Prisma, type ChatMessage } from '../../../src/generated/prisma/client.js';
import {
  backend,
  createPostgresDatabase,
  openMigratedDatabase,
  type MigratedDatabase,
} from '../../support/backend.js';

/**
 * The daemon's SQL executor (Database.sql, issue #9) on this project's backend. Every expectation
 * below is written once and holds on both (`--project embedded` is PGlite, `--project services`
 * Postgres): a row decodes to the same values, of the same JS types, whichever runs it, and the
 * way Prisma decodes the same columns.
 */
describe(`Database.sql (${backend})`, () => {
  let database: MigratedDatabase;

  beforeAll(async () => {
    database = await openMigratedDatabase();
  });
  afterAll(() => database?.dispose());

  it('decodes each column type the same way on both backends', async () => {
    const [row] = await database.sql.query<Record<string, unknown>>`
      SELECT 9007199254740993::int8 AS big, 42::int8 AS small, ARRAY[1, 9007199254740993]::int8[] AS bigs,
             7::int2 AS int2, 2147483647::int4 AS int4, 1.5::float8 AS float8, 0.25::float4 AS float4,
             '12345678901234567890.5'::numeric AS numeric, true AS yes, false AS no,
             'text'::text AS text, '6f1c4a52-6f4e-4c7e-9d2b-3f8a1e2b9c10'::uuid AS uuid,
             'RUNNING'::"ChatStatus" AS status,
             '2026-11-30 14:20:01.123+00'::timestamptz AS at,
             '2026-11-30 14:20:01.123'::timestamp AS local_at,
             '{"a": [1, "x", null], "b": {"c": true}}'::jsonb AS object,
             '[1, 2]'::jsonb AS array, '"s"'::jsonb AS string, 'null'::jsonb AS json_null,
             '{"a": 1}'::json AS json, ARRAY['a', 'b"c', NULL] AS texts, ARRAY[1, 2]::int4[] AS ints,
             NULL::text AS nothing`;
    expect(row).toStrictEqual({
      big: 9007199254740993n,
      small: 42n,
      bigs: [1n, 9007199254740993n],
      int2: 7,
      int4: 2147483647,
      float8: 1.5,
      float4: 0.25,
      numeric: '12345678901234567890.5',
      yes: true,
      no: false,
      text: 'text',
      uuid: '6f1c4a52-6f4e-4c7e-9d2b-3f8a1e2b9c10',
      status: 'RUNNING',
      at: new Date('2026-11-30T14:20:01.123Z'),
      // UTC, as Prisma reads a timestamp without time zone, whatever the process's zone.
      local_at: new Date('2026-11-30T14:20:01.123Z'),
      object: { a: [1, 'x', null], b: { c: true } },
      array: [1, 2],
      string: 's',
      json_null: null,
      json: { a: 1 },
      texts: ['a', 'b"c', null],
      ints: [1, 2],
      nothing: null,
    });
  });

  it('sends parameters the same way on both backends, fragments included', async () => {
    const awkward = `quote ' double " back \\ comma , brace { } — ü`;
    const at = new Date('2026-01-02T03:04:05.678Z');
    const limit = Prisma.sql`LEAST(${5}::int, 3)`;
    const [row] = await database.sql.query<Record<string, unknown>>`
      SELECT ${awkward}::text AS text, ${[awkward, null, '', 'NULL']}::text[] AS texts,
             ${[1n, 2n]}::int8[] AS ids, ${12345678901234567n}::int8 AS id, ${-1.25}::float8 AS float,
             ${true}::boolean AS yes, ${false}::boolean AS no, ${at}::timestamptz AS at,
             ${null}::text AS nothing, ${'{"k": ["v"]}'}::jsonb AS json, ${limit} AS fragment,
             ${['6f1c4a52-6f4e-4c7e-9d2b-3f8a1e2b9c10']}::uuid[] AS uuids`;
    expect(row).toStrictEqual({
      text: awkward,
      texts: [awkward, null, '', 'NULL'],
      ids: [1n, 2n],
      id: 12345678901234567n,
      float: -1.25,
      yes: true,
      no: false,
      at,
      nothing: null,
      json: { k: ['v'] },
      fragment: 3,
      uuids: ['6f1c4a52-6f4e-4c7e-9d2b-3f8a1e2b9c10'],
    });
  });

  it('reads a chat message exactly as Prisma does, and each statement is counted once', async () => {
    const { prisma } = database;
    const user = await prisma.user.create({ data: { username: `sql-${backend}`, role: 'MEMBER' } });
    const chat = await prisma.chat.create({ data: { ownerId: user.id, title: 'decode' } });
    const created = await prisma.chatMessage.create({
      data: {
        chatId: chat.id,
        role: 'ASSISTANT',
        parts: [
          { type: 'TEXT', text: 'ünïcode "quoted"' },
          { type: 'REASONING', text: '' },
        ],
        createdById: user.id,
        inputTokens: 11,
        costMicros: 0.5,
        isSummary: true,
      },
    });
    const before = database.statementCount();
    const rows = await database.sql.query<ChatMessage>`
      SELECT ${CHAT_MESSAGE_COLUMNS} FROM chat_messages WHERE chat_id = ${chat.id}::uuid`;
    expect(database.statementCount() - before).toBe(1);
    const viaPrisma = await prisma.chatMessage.findUniqueOrThrow({ where: { id: created.id } });
    expect(rows).toStrictEqual([{ ...viaPrisma }]);
  });

  it('never runs inside a Prisma interactive transaction that is open', async () => {
    const { prisma, sql } = database;
    const user = await prisma.user.create({ data: { username: `tx-${backend}`, role: 'MEMBER' } });
    const chat = await prisma.chat.create({ data: { ownerId: user.id, title: 'committed' } });
    let read: Promise<{ title: string }[]> | undefined;
    // PGlite has one connection: a statement sent there during the transaction would see (and
    // be rolled back with) its uncommitted write unless PGlite holds it until the end.
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.chat.update({ where: { id: chat.id }, data: { title: 'uncommitted' } });
        read = sql.query<{ title: string }>`SELECT title FROM chats WHERE id = ${chat.id}::uuid`;
        await tx.chat.findUniqueOrThrow({ where: { id: chat.id } });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await read).toEqual([{ title: 'committed' }]);
  });
});

describe.runIf(backend === 'services')('a pooled connection killed while idle', () => {
  it('is reported and replaced; the process lives and the next statement runs', async () => {
    const postgres = await createPostgresDatabase();
    let reported: (error: Error) => void = () => undefined;
    const failure = new Promise<Error>((resolve) => (reported = resolve));
    const database = await openDatabase({
      databaseUrl: postgres.url,
      pgliteDataDir: 'memory://',
      onIdleConnectionError: (error) => reported(error),
    });
    try {
      // The daemon's statements use the pool directly: Prisma's adapter never connects here.
      const [own] = await database.sql.query<{ pid: number }>`SELECT pg_backend_pid() AS pid`;
      const killer = await openDatabase({ databaseUrl: postgres.url, pgliteDataDir: 'memory://' });
      try {
        await killer.sql.query`SELECT pg_terminate_backend(${own!.pid}::int)`;
      } finally {
        await killer.close();
      }
      expect((await failure).message).toMatch(/terminat/);
      const [row] = await database.sql.query<{ one: number }>`SELECT 1 AS one`;
      expect(row).toEqual({ one: 1 });
    } finally {
      await database.close();
      await postgres.drop();
    }
  });
});
