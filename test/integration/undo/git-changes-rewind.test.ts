import { existsSync } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import { createGate } from '../../support/llm.js';
import {
  CHAT_EVENTS,
  textStep,
  toolStep,
  workspaceFromFirstTurn,
  type ChatEvent,
} from '../workspace/support.js';

/**
 * Files changed and undo (issue #11): a chatGitChanges subscriber sees the agent's write appear
 * and, after rewindChat, disappear; the files on disk follow; bad rewinds change nothing.
 */
const GIT_CHANGES = `subscription ($chatId: ID!) {
  chatGitChanges(chatId: $chatId) {
    scannedAt
    repositories { path branch headCommit truncated error files { path status additions deletions } diff }
  }
}`;

interface Snapshot {
  chatGitChanges: {
    repositories: {
      path: string;
      files: { path: string; status: string; additions: number }[];
      diff: string;
      error: string | null;
    }[];
  } | null;
}

const REWIND = `mutation ($messageId: ID!, $chatId: ID, $restoreFiles: Boolean) {
  rewindChat(messageId: $messageId, chatId: $chatId, restoreFiles: $restoreFiles) { id status }
}`;

const touches = (snapshot: Snapshot, file: string) =>
  snapshot.chatGitChanges?.repositories.some((repo) =>
    repo.files.some((changed) => changed.path.endsWith(file)),
  ) ?? false;

describe('git changes and rewindChat (issue #11)', () => {
  const ctx = useDaemonServer();
  let member: { id: string; client: TestClient };
  let other: { id: string; client: TestClient };
  let workspaceId: string;
  let workspaceDir: string;

  beforeAll(async () => {
    member = await ctx.server.createMember();
    other = await ctx.server.createMember();
    ({ workspaceId, workspaceDir } = await workspaceFromFirstTurn(
      ctx.server,
      ctx.llm,
      member.client,
      'A workspace for undo',
    ));
    // The template's startup script made the repository (the suite's machines have bubblewrap).
    expect(existsSync(path.join(workspaceDir, '.git'))).toBe(true);
  });

  it('shows a write in chatGitChanges, and rewindChat removes it from disk and from the view', async () => {
    const text = 'Write an undo note';
    const gate = createGate();
    ctx.llm.script(
      {
        ...toolStep(text, [
          { id: 'w', name: 'write_file', args: { path: 'notes/undo.txt', content: 'one\ntwo\n' } },
        ]),
        gate: gate.promise,
      },
      textStep(text, 'Written.'),
    );
    const created = await member.client.query<{ createChat: { id: string } }>(
      'mutation ($input: CreateChatInput!) { createChat(input: $input) { id } }',
      { input: { text, workspaceId } },
    );
    const chatId = created.createChat.id;
    const stream = member.client.subscribe<ChatEvent>(CHAT_EVENTS, { chatId });
    const changes = member.client.subscribe<Snapshot>(GIT_CHANGES, { chatId });
    try {
      const initial = await changes.next();
      expect(initial.chatGitChanges).not.toBeNull();
      expect(touches(initial, 'notes/undo.txt')).toBe(false);
      gate.open();

      const written = await changes.next((snapshot) => touches(snapshot, 'notes/undo.txt'));
      const repo = written.chatGitChanges!.repositories.find((r) =>
        r.files.some((f) => f.path.endsWith('notes/undo.txt')),
      )!;
      expect(repo.error).toBeNull();
      expect(repo.files.find((f) => f.path.endsWith('notes/undo.txt'))).toMatchObject({
        additions: 2,
      });
      expect(repo.diff).toContain('+two');
      await stream.waitFor((e) => e.chatEvents.status === 'WAITING');
      expect(existsSync(path.join(workspaceDir, 'notes/undo.txt'))).toBe(true);

      const state = await member.client.query<{
        chat: {
          checkpoints: { messageId: string }[];
          messages: { edges: { node: { id: string; role: string } }[] };
        };
      }>(
        'query ($id: ID!) { chat(id: $id) { checkpoints { messageId } messages(first: 10) { edges { node { id role } } } } }',
        { id: chatId },
      );
      const userMessage = state.chat.messages.edges.find((e) => e.node.role === 'USER')!.node;
      const assistant = state.chat.messages.edges.find((e) => e.node.role === 'ASSISTANT')!.node;
      expect(state.chat.checkpoints).toEqual([{ messageId: userMessage.id }]);

      // Attacks first: each changes nothing.
      const foreign = await other.client.expectError(REWIND, { messageId: userMessage.id });
      expect(foreign.codes).toEqual(['NOT_FOUND']);
      const otherChat = await other.client.query<{ createChat: { id: string } }>(
        'mutation { createChat(input: { text: "elsewhere" }) { id } }',
      );
      const wrongChat = await member.client.expectError(REWIND, {
        messageId: userMessage.id,
        chatId: otherChat.createChat.id,
      });
      expect(wrongChat.codes).toEqual(['NOT_FOUND']);
      const notUser = await member.client.expectError(REWIND, { messageId: assistant.id });
      expect(notUser.codes).toEqual(['BAD_USER_INPUT']);
      expect(existsSync(path.join(workspaceDir, 'notes/undo.txt'))).toBe(true);
      expect(
        await ctx.server.app.deps.prisma.chatMessage.count({ where: { chatId, deleted: true } }),
      ).toBe(0);

      // The rewind: conversation and files back to before the message.
      const rewound = await member.client.query<{ rewindChat: { status: string } }>(REWIND, {
        messageId: userMessage.id,
        chatId,
      });
      expect(rewound.rewindChat.status).toBe('WAITING');
      await changes.next((snapshot) => !touches(snapshot, 'notes/undo.txt'));
      expect(existsSync(path.join(workspaceDir, 'notes/undo.txt'))).toBe(false);
      expect(existsSync(path.join(workspaceDir, 'notes'))).toBe(false);
      expect(
        await ctx.server.app.deps.prisma.chatMessage.count({ where: { chatId, deleted: false } }),
      ).toBe(0);

      // The message is deleted now: rewinding to it again is NOT_FOUND.
      const deleted = await member.client.expectError(REWIND, { messageId: userMessage.id });
      expect(deleted.codes).toEqual(['NOT_FOUND']);
    } finally {
      await changes.close();
      await stream.close();
    }
  });

  it('refuses to rewind a RUNNING chat (interrupt first), changing nothing', async () => {
    const text = 'Hold this turn';
    const gate = createGate();
    ctx.llm.script({ ...textStep(text, 'Released.'), gate: gate.promise });
    const created = await member.client.query<{ createChat: { id: string } }>(
      'mutation ($input: CreateChatInput!) { createChat(input: $input) { id } }',
      { input: { text, workspaceId } },
    );
    const chatId = created.createChat.id;
    const stream = member.client.subscribe<ChatEvent>(CHAT_EVENTS, { chatId });
    try {
      await stream.waitFor((e) => e.chatEvents.status === 'RUNNING');
      const message = await ctx.server.app.deps.prisma.chatMessage.findFirstOrThrow({
        where: { chatId, role: 'USER' },
      });
      const running = await member.client.expectError(REWIND, { messageId: String(message.id) });
      expect(running.codes).toEqual(['CONFLICT']);
      gate.open();
      await stream.waitFor((e) => e.chatEvents.status === 'WAITING');
      expect(
        await ctx.server.app.deps.prisma.chatMessage.count({ where: { chatId, deleted: true } }),
      ).toBe(0);
    } finally {
      await stream.close();
    }
  });
});
