import { describe, expect, it } from 'vitest';
import {
  eventsOf,
  isStatus,
  messageText,
  persistedMessages,
  subscribeChat,
} from '../../support/chat-stream.js';
import { createGate, isTurn } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';

describe('chatEvents: snapshot then live, resumable with afterMessageId (B13, B15)', () => {
  const ctx = useDaemonServer();

  it('resubscribing mid-stream replays the buffered parts once and misses nothing', async () => {
    const member = await ctx.server.createMember();
    const release = createGate();
    const pieces = ['one ', 'two ', 'three ', 'four ', 'five'];
    ctx.llm.script({ match: isTurn, text: pieces, holdAfterChunks: 3, release: release.promise });
    const created = await member.client.query(CreateChatMutation, { input: { text: 'count' } });
    const chatId = created.createChat.id;

    const first = subscribeChat(member.client, chatId);
    await first.waitFor(
      () => eventsOf(first).filter((e) => e.__typename === 'MessagePartEvent').length >= 2,
    );
    const lastSeen = persistedMessages(first).at(-1)!.id;
    await first.close();

    const second = subscribeChat(member.client, chatId, lastSeen);
    try {
      const snapshot = await second.next();
      expect(snapshot.chatEvents).toMatchObject({ __typename: 'StatusEvent', status: 'RUNNING' });
      // The two buffered deltas of the streaming step come in the snapshot, once.
      await second.waitFor(
        () => eventsOf(second).filter((e) => e.__typename === 'MessagePartEvent').length >= 2,
      );
      release.open();
      await second.waitFor(isStatus('WAITING'));
      const events = eventsOf(second);
      // Nothing at or before afterMessageId is sent again.
      expect(persistedMessages(second).map((m) => m.role)).toEqual(['ASSISTANT']);
      const step = persistedMessages(second)[0]!;
      expect(messageText(step)).toBe(pieces.join(''));
      const deltas = events.flatMap((e) =>
        e.__typename === 'MessagePartEvent' && e.messageId === step.id && 'text' in e.part
          ? [e.part.text]
          : [],
      );
      // Every delta exactly once, in order: their concatenation is the persisted text (B14 lets
      // the server merge provider chunks, so the pieces may arrive fewer and longer).
      expect(deltas.join('')).toBe(pieces.join(''));
      const statuses = events.filter((e) => e.__typename === 'StatusEvent');
      expect(statuses.map((e) => ('status' in e ? e.status : ''))).toEqual(['RUNNING', 'WAITING']);
    } finally {
      await second.close();
    }
  });

  it('a subscriber joining after the turn gets the persisted history and the status only', async () => {
    const member = await ctx.server.createMember();
    ctx.llm.script({ match: isTurn, text: 'done already' });
    const created = await member.client.query(CreateChatMutation, { input: { text: 'late' } });
    const chatId = created.createChat.id;
    const watcher = subscribeChat(member.client, chatId);
    await watcher.waitFor(isStatus('WAITING'));
    await watcher.close();

    const late = subscribeChat(member.client, chatId);
    try {
      await late.waitFor(() => persistedMessages(late).length === 2);
      const events = eventsOf(late);
      expect(events[0]).toMatchObject({ __typename: 'StatusEvent', status: 'WAITING' });
      expect(events.filter((e) => e.__typename === 'MessagePartEvent')).toEqual([]);
      expect(persistedMessages(late).map((m) => m.role)).toEqual(['USER', 'ASSISTANT']);
    } finally {
      await late.close();
    }
  });
});
