import { describe, expect, it } from 'vitest';
import { findChatForRead, loadChatForRead } from '../../../src/chats/access.js';
import type { PrismaClient } from '../../../src/db/client.js';
import type { Viewer } from '../../../src/deps.js';

const CHAT_ID = '0b8f3c1e-2d4a-4f6b-9c1d-3e5f7a9b1c2d';
const member = { id: 'member-1', role: 'MEMBER' } as Viewer;
const admin = { id: 'admin-1', role: 'ADMIN' } as Viewer;

/** A database whose chat lookup answers `row` or fails like an outage. */
function databaseReturning(row: { id: string; ownerId: string } | Error) {
  const findFirst = async () => {
    if (row instanceof Error) throw row;
    return row;
  };
  return { chat: { findFirst } } as unknown as PrismaClient;
}

describe('chat read access', () => {
  it("hides another user's chat exactly like a missing one", async () => {
    const others = databaseReturning({ id: CHAT_ID, ownerId: 'someone-else' });
    await expect(findChatForRead(others, member, CHAT_ID)).resolves.toBeNull();
    await expect(loadChatForRead(others, member, CHAT_ID)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(findChatForRead(others, admin, CHAT_ID)).resolves.toMatchObject({ id: CHAT_ID });
  });

  it('lets a database outage fail the read instead of answering "no such chat"', async () => {
    const down = databaseReturning(new Error('connection terminated'));
    await expect(findChatForRead(down, member, CHAT_ID)).rejects.toThrow('connection terminated');
  });
});
