import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { MAINTENANCE_LOCK_KEY } from '../../../src/maintenance/maintenance.js';
import { backend } from '../../support/backend.js';
import type { TestClient } from '../../support/client.js';
import {
  CHAT_LIST_EVENTS,
  chatListSubscribed,
  createDefaultModel,
  type ChatListEventData,
} from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Auto-archive and retention (issue #13). The job runs through app.maintenance.runOnce(), as the
 * timer would; the daemon is off, and ages are set by writing last_activity_at / deleted_at.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
const UPDATE = `mutation ($input: UpdateDeploymentSettingsInput!) {
  updateDeploymentSettings(input: $input) { autoArchiveDays retentionDays } }`;
const USAGE = 'inputTokens outputTokens cacheReadTokens cacheWriteTokens totalTokens costMicros';
const INSIGHTS = `query ($range: TimeRange!) {
  insights(range: $range) { totals { ${USAGE} } chats messages byDay { day usage { ${USAGE} } } } }`;

describe('maintenance: auto-archive and retention', () => {
  let server: TestServer;
  let member: { id: string; client: TestClient };
  const prisma = () => server.app.deps.prisma;
  const runOnce = () => server.app.maintenance.runOnce();

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    member = await server.createMember();
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());
  beforeEach(async () => {
    await prisma().chat.deleteMany({});
    await server.admin.query(UPDATE, { input: { autoArchiveDays: null, retentionDays: null } });
  });

  /** A chat whose last activity was `ageMs` ago. */
  async function chatAged(ageMs: number, data: { parentId?: string; pinOrder?: number } = {}) {
    return prisma().chat.create({
      data: {
        ownerId: member.id,
        title: 'old chat',
        status: 'WAITING',
        lastActivityAt: new Date(Date.now() - ageMs),
        ...(data.parentId ? { parentId: data.parentId, rootId: data.parentId } : {}),
        ...(data.pinOrder ? { pinOrder: data.pinOrder } : {}),
      },
    });
  }
  const archivedIds = async () =>
    (await prisma().chat.findMany({ where: { archived: true }, select: { id: true } }))
      .map((chat) => chat.id)
      .sort();

  it('does nothing while it is off (the default)', async () => {
    await chatAged(3_000 * DAY_MS);
    expect(await runOnce()).toMatchObject({ archivedChats: 0, purgedChats: 0 });
    expect(await archivedIds()).toEqual([]);
  });

  it('archives at the boundary, with the children, skipping pinned and recently active families', async () => {
    await server.admin.query(UPDATE, { input: { autoArchiveDays: 7 } });
    const minute = 60_000;
    const stale = await chatAged(7 * DAY_MS + minute);
    const staleChild = await chatAged(8 * DAY_MS, { parentId: stale.id });
    const fresh = await chatAged(7 * DAY_MS - minute);
    const pinned = await chatAged(30 * DAY_MS, { pinOrder: 1 });
    const busyFamily = await chatAged(30 * DAY_MS);
    await chatAged(DAY_MS, { parentId: busyFamily.id }); // a child active yesterday
    const running = await chatAged(30 * DAY_MS);
    await prisma().chat.update({ where: { id: running.id }, data: { status: 'RUNNING' } });

    const events = member.client.subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    try {
      await chatListSubscribed(server, member.id);
      const report = await runOnce();
      expect(report.archivedChats).toBe(2);
      expect(await archivedIds()).toEqual([stale.id, staleChild.id].sort());
      const seen = new Set<string>();
      while (seen.size < 2) {
        const { chatListEvents } = await events.next();
        expect(chatListEvents.kind).toBe('UPDATED');
        seen.add(chatListEvents.chatId);
      }
      expect([...seen].sort()).toEqual([stale.id, staleChild.id].sort());
    } finally {
      await events.close();
    }
    // Idempotent: a second run finds nothing.
    expect((await runOnce()).archivedChats).toBe(0);
    for (const kept of [fresh, pinned, busyFamily, running]) {
      expect((await prisma().chat.findUniqueOrThrow({ where: { id: kept.id } })).archived).toBe(
        false,
      );
    }
  });

  it.runIf(backend === 'services')(
    'leaves the archive to the replica holding the lock, then does it itself',
    async () => {
      await server.admin.query(UPDATE, { input: { autoArchiveDays: 1 } });
      const stale = await chatAged(2 * DAY_MS);
      // Another replica's run, in its own connection, holds the job's lock.
      const other = new pg.Client({ connectionString: server.env['DATABASE_URL'] });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT pg_advisory_xact_lock($1::bigint)', [MAINTENANCE_LOCK_KEY]);
        expect(await runOnce()).toMatchObject({ archivedChats: 0, lockedElsewhere: true });
        await other.query('COMMIT');
      } finally {
        await other.end();
      }
      expect(await runOnce()).toMatchObject({ archivedChats: 1, lockedElsewhere: false });
      expect(await archivedIds()).toEqual([stale.id]);
    },
  );

  it('archives in batches until none are left', async () => {
    await server.admin.query(UPDATE, { input: { autoArchiveDays: 1 } });
    await prisma().chat.createMany({
      data: Array.from({ length: 250 }, (_, index) => ({
        ownerId: member.id,
        title: `old ${index}`,
        status: 'WAITING' as const,
        lastActivityAt: new Date(Date.now() - 2 * DAY_MS),
      })),
    });
    expect((await runOnce()).archivedChats).toBe(250);
    expect(await prisma().chat.count({ where: { archived: false } })).toBe(0);
  });

  it('purges message bodies of chats deleted past retention and keeps insights equal', async () => {
    await server.admin.query(UPDATE, { input: { retentionDays: 30 } });
    const day = '2025-06-01T12:00:00.000Z';
    const make = async (deletedDaysAgo: number | null) => {
      const chat = await prisma().chat.create({
        data: {
          ownerId: member.id,
          title: 'secret title',
          status: 'WAITING',
          labels: { project: 'x' },
          deletedAt:
            deletedDaysAgo === null ? null : new Date(Date.now() - deletedDaysAgo * DAY_MS),
        },
      });
      await prisma().chatMessage.create({
        data: {
          chatId: chat.id,
          role: 'ASSISTANT',
          parts: [{ type: 'TEXT', text: 'secret answer' }],
          inputTokens: 100,
          outputTokens: 20,
          costMicros: 140,
          createdAt: new Date(day),
        },
      });
      await prisma().queuedMessage.create({
        data: { chatId: chat.id, text: 'secret queued', position: 1 },
      });
      return chat;
    };
    const old = await make(31);
    const recent = await make(29);
    const live = await make(null);
    // Files (issue #10): one only the purged chat uses, one it shares with a live chat, one of a
    // chat still within retention, and an upload no chat uses yet.
    const file = (name: string) =>
      prisma().chatFile.create({
        data: {
          id: randomUUID(),
          ownerId: member.id,
          name,
          mediaType: 'text/plain',
          size: name.length,
          sha256: name,
          data: Buffer.from(name),
        },
      });
    const [onlyOld, shared, ofRecent, unlinked] = await Promise.all(
      ['only-old', 'shared', 'of-recent', 'unlinked'].map(file),
    );
    await prisma().chatFileLink.createMany({
      data: [
        { chatId: old.id, fileId: onlyOld!.id },
        { chatId: old.id, fileId: shared!.id },
        { chatId: live.id, fileId: shared!.id },
        { chatId: recent.id, fileId: ofRecent!.id },
      ],
    });
    const range = { from: '2025-05-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' };
    const before = await member.client.query(INSIGHTS, { range });

    expect((await runOnce()).purgedChats).toBe(1);
    expect((await runOnce()).purgedChats).toBe(0); // idempotent

    const purged = await prisma().chat.findUniqueOrThrow({ where: { id: old.id } });
    expect(purged).toMatchObject({ title: '', labels: {} });
    expect(purged.purgedAt).not.toBeNull();
    const [message] = await prisma().chatMessage.findMany({ where: { chatId: old.id } });
    expect(message).toMatchObject({
      parts: [],
      inputTokens: 100,
      outputTokens: 20,
      costMicros: 140,
    });
    expect(await prisma().queuedMessage.count({ where: { chatId: old.id } })).toBe(0);
    for (const kept of [recent, live]) {
      const [body] = await prisma().chatMessage.findMany({ where: { chatId: kept.id } });
      expect(body?.parts).toEqual([{ type: 'TEXT', text: 'secret answer' }]);
      expect(await prisma().queuedMessage.count({ where: { chatId: kept.id } })).toBe(1);
    }
    expect(await member.client.query(INSIGHTS, { range })).toEqual(before);
    expect(await prisma().chatFileLink.count({ where: { chatId: old.id } })).toBe(0);
    const files = await prisma().chatFile.findMany({ select: { id: true } });
    expect(files.map((f) => f.id).sort()).toEqual([shared!.id, ofRecent!.id, unlinked!.id].sort());
    expect(await prisma().chatFileLink.count({ where: { fileId: shared!.id } })).toBe(1);
  });
});
