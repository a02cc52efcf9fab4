import { describe, expect, it } from 'vitest';
import {
  eventsOf,
  isStatus,
  loadHistory,
  subscribeChat,
  waitForStatusCount,
} from '../../support/chat-stream.js';
import { createGate } from '../../support/llm.js';
import { CreateChatMutation, SendMessageMutation } from '../../support/operations.js';
import { answering, useDaemonServer } from '../../support/daemon-server.js';

describe('daemon: queued messages, interrupts, promote and edit (B11, B12)', () => {
  const ctx = useDaemonServer();

  async function startHeldTurn(text: string) {
    const member = await ctx.server.createMember();
    const release = createGate();
    ctx.llm.script({
      match: answering(text),
      text: ['partial ', 'answer ', 'rest'],
      // The first chunk only carries the role; three chunks = two text deltas.
      holdAfterChunks: 3,
      release: release.promise,
    });
    const created = await member.client.query(CreateChatMutation, { input: { text } });
    const chatId = created.createChat.id;
    const stream = subscribeChat(member.client, chatId);
    // Two deltas streamed: the turn is RUNNING, mid-step.
    await stream.waitFor(
      () => eventsOf(stream).filter((e) => e.__typename === 'MessagePartEvent').length >= 2,
    );
    return { member, chatId, stream, release };
  }

  it('QUEUE runs queued messages in order after the turn', async () => {
    const { member, chatId, stream, release } = await startHeldTurn('q-first');
    try {
      for (const text of ['q-second', 'q-third']) {
        ctx.llm.script({ match: answering(text), text: `reply to ${text}` });
        const sent = await member.client.query(SendMessageMutation, { input: { chatId, text } });
        expect(sent.sendMessage.message).toBeNull();
        expect(sent.sendMessage.queuedMessage?.text).toBe(text);
      }
      release.open();
      await waitForStatusCount(stream, 'WAITING', 1);
      const { transcript, chat } = await loadHistory(member.client, chatId);
      expect(transcript).toEqual([
        'USER:q-first',
        'ASSISTANT:partial answer rest',
        'USER:q-second',
        'ASSISTANT:reply to q-second',
        'USER:q-third',
        'ASSISTANT:reply to q-third',
      ]);
      expect(chat.queuedMessages).toEqual([]);
    } finally {
      await stream.close();
    }
  });

  it('INTERRUPT keeps what the turn produced and runs the new message before the queue', async () => {
    const { member, chatId, stream } = await startHeldTurn('i-first');
    try {
      ctx.llm.script(
        { match: answering('i-urgent'), text: 'reply to urgent' },
        { match: answering('i-queued'), text: 'reply to queued' },
      );
      await member.client.query(SendMessageMutation, { input: { chatId, text: 'i-queued' } });
      const sent = await member.client.query(SendMessageMutation, {
        input: { chatId, text: 'i-urgent', busyBehavior: 'INTERRUPT' },
      });
      expect(sent.sendMessage.queuedMessage?.text).toBe('i-urgent');
      await waitForStatusCount(stream, 'WAITING', 1);
      const { transcript } = await loadHistory(member.client, chatId);
      expect(transcript).toEqual([
        'USER:i-first',
        'ASSISTANT:partial answer ',
        'USER:i-urgent',
        'ASSISTANT:reply to urgent',
        'USER:i-queued',
        'ASSISTANT:reply to queued',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('interruptChat stops the turn, keeps its output and sets PAUSED; the queue waits', async () => {
    const { member, chatId, stream } = await startHeldTurn('p-first');
    try {
      await member.client.query(SendMessageMutation, { input: { chatId, text: 'p-queued' } });
      const paused = await member.client.query<{ interruptChat: { status: string } }>(
        'mutation ($id: ID!) { interruptChat(id: $id) { status } }',
        { id: chatId },
      );
      expect(paused.interruptChat.status).toBe('PAUSED');
      await stream.waitFor(isStatus('PAUSED'));
      const { transcript, chat } = await loadHistory(member.client, chatId);
      expect(transcript).toEqual(['USER:p-first', 'ASSISTANT:partial answer ']);
      expect(chat.status).toBe('PAUSED');
      expect(chat.queuedMessages.map((q) => q.text)).toEqual(['p-queued']);

      // A message on a PAUSED chat resumes it, behind the older queued one (B11: order kept).
      ctx.llm.script(
        { match: answering('p-queued'), text: 'queued ran' },
        { match: answering('p-resume'), text: 'resumed' },
      );
      const sent = await member.client.query(SendMessageMutation, {
        input: { chatId, text: 'p-resume' },
      });
      expect(sent.sendMessage.message).toBeNull();
      expect(sent.sendMessage.queuedMessage?.text).toBe('p-resume');
      await waitForStatusCount(stream, 'WAITING', 1);
      expect((await loadHistory(member.client, chatId)).transcript.slice(2)).toEqual([
        'USER:p-queued',
        'ASSISTANT:queued ran',
        'USER:p-resume',
        'ASSISTANT:resumed',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('promoteQueuedMessage interrupts the turn and runs that message next', async () => {
    const { member, chatId, stream } = await startHeldTurn('m-first');
    try {
      const queued: string[] = [];
      for (const text of ['m-a', 'm-b']) {
        const sent = await member.client.query(SendMessageMutation, { input: { chatId, text } });
        queued.push(sent.sendMessage.queuedMessage!.id);
      }
      ctx.llm.script(
        { match: answering('m-b'), text: 'reply b' },
        { match: answering('m-a'), text: 'reply a' },
      );
      await member.client.query(
        'mutation ($chatId: ID!, $id: ID!) { promoteQueuedMessage(chatId: $chatId, id: $id) { id } }',
        {
          chatId,
          id: queued[1],
        },
      );
      await waitForStatusCount(stream, 'WAITING', 1);
      expect((await loadHistory(member.client, chatId)).transcript).toEqual([
        'USER:m-first',
        'ASSISTANT:partial answer ',
        'USER:m-b',
        'ASSISTANT:reply b',
        'USER:m-a',
        'ASSISTANT:reply a',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('editMessage on a running chat fences the turn and reruns from the new text', async () => {
    const { member, chatId, stream, release } = await startHeldTurn('e-first');
    try {
      const { messages } = await loadHistory(member.client, chatId);
      ctx.llm.script({ match: answering('e-edited'), text: 'reply to edit' });
      await member.client.query(
        'mutation ($input: EditMessageInput!) { editMessage(input: $input) { id } }',
        { input: { messageId: messages[0]!.id, text: 'e-edited' } },
      );
      await stream.waitFor(() =>
        eventsOf(stream).some((e) => e.__typename === 'StatusEvent' && e.status === 'WAITING'),
      );
      // The fenced worker's step may finish now: nothing it writes may land.
      release.open();
      const { transcript } = await loadHistory(member.client, chatId);
      expect(transcript).toEqual(['USER:e-edited', 'ASSISTANT:reply to edit']);
      const rows = await ctx.server.app.deps.prisma.chatMessage.findMany({ where: { chatId } });
      expect(rows.filter((row) => !row.deleted)).toHaveLength(2);
      expect(rows.filter((row) => row.deleted).map((row) => row.role)).toEqual(['USER']);
    } finally {
      await stream.close();
    }
  });
});
