import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../../support/client.js';
import {
  CHAT_LIST_EVENTS,
  chatListSubscribed,
  createDefaultModel,
  type ChatListEventData,
} from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const DELETE = 'mutation ($id: ID!) { deleteWorkspace(id: $id) }';
const CREATE_CHAT = `mutation ($workspaceId: ID) {
  createChat(input: { text: "hello", workspaceId: $workspaceId }) { id } }`;

/** deleteWorkspace (issue #14): owner only, refused while a chat on it runs, and thorough. */
describe('deleteWorkspace', () => {
  let server: TestServer;
  let owner: { id: string; client: TestClient };
  let stranger: { id: string; client: TestClient };

  beforeAll(async () => {
    // No daemon: a created chat stays PENDING, which is what the CONFLICT case needs.
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server); // createChat needs a default model
    owner = await server.createMember();
    stranger = await server.createMember();
  });
  afterAll(() => server?.close());

  /** A local workspace row with a directory holding one file. */
  async function makeWorkspace(ownerId: string) {
    const id = randomUUID();
    const directory = path.resolve(server.env['WORKSPACES_DIR']!, id);
    await fs.mkdir(directory, { recursive: true });
    await fs.writeFile(path.join(directory, 'notes.txt'), 'keep me?');
    await server.app.deps.prisma.workspace.create({
      data: { id, ownerId, name: `ws-${id.slice(0, 4)}`, template: 'test', directory },
    });
    return { id, directory };
  }

  async function chatOn(client: TestClient, workspaceId: string, status: 'PENDING' | 'WAITING') {
    const { createChat } = await client.query<{ createChat: { id: string } }>(CREATE_CHAT, {
      workspaceId,
    });
    await server.app.deps.prisma.chat.update({ where: { id: createChat.id }, data: { status } });
    return createChat.id;
  }

  it("another user's workspace, a malformed id and an unknown one are NOT_FOUND; nothing changes", async () => {
    const workspace = await makeWorkspace(owner.id);
    for (const id of [workspace.id, 'not-a-uuid', randomUUID()]) {
      expect((await stranger.client.expectError(DELETE, { id })).codes).toEqual(['NOT_FOUND']);
    }
    expect(await server.app.deps.prisma.workspace.count({ where: { id: workspace.id } })).toBe(1);
    await expect(fs.stat(workspace.directory)).resolves.toBeTruthy();
  });

  it('is refused with CONFLICT while a chat on it is PENDING or RUNNING', async () => {
    const workspace = await makeWorkspace(owner.id);
    const chatId = await chatOn(owner.client, workspace.id, 'PENDING');
    for (const status of ['PENDING', 'RUNNING'] as const) {
      await server.app.deps.prisma.chat.update({ where: { id: chatId }, data: { status } });
      expect((await owner.client.expectError(DELETE, { id: workspace.id })).codes).toEqual([
        'CONFLICT',
      ]);
    }
    const chat = await server.app.deps.prisma.chat.findUniqueOrThrow({ where: { id: chatId } });
    expect(chat.workspaceId).toBe(workspace.id);
    await expect(fs.stat(workspace.directory)).resolves.toBeTruthy();
  });

  it('stops its agent, removes the directory, unbinds its chats and tells the chat list', async () => {
    const workspace = await makeWorkspace(owner.id);
    const chatId = await chatOn(owner.client, workspace.id, 'WAITING');
    await server.app.workspaces.clientFor(workspace.id); // starts this process's agent
    expect(server.app.workspaces.embeddedWorkspaceIds()).toContain(workspace.id);
    const list = owner.client.subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    await chatListSubscribed(server, owner.id);

    expect(await owner.client.query(DELETE, { id: workspace.id })).toEqual({
      deleteWorkspace: true,
    });

    await list.next(
      (event) => event.chatListEvents.chatId === chatId && event.chatListEvents.kind === 'UPDATED',
    );
    await list.close();
    expect(server.app.workspaces.embeddedWorkspaceIds()).not.toContain(workspace.id);
    await expect(fs.stat(workspace.directory)).rejects.toMatchObject({ code: 'ENOENT' });
    const { chat } = await owner.client.query<{ chat: { workspace: unknown } }>(
      'query ($id: ID!) { chat(id: $id) { workspace { id } } }',
      { id: chatId },
    );
    expect(chat.workspace).toBeNull();
    // Deleting it again: it is gone.
    expect((await owner.client.expectError(DELETE, { id: workspace.id })).codes).toEqual([
      'NOT_FOUND',
    ]);
  });
});
