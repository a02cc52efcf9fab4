import { describe, expect, it } from 'vitest';
import { eventsOf, isStatus, loadHistory, subscribeChat } from '../../support/chat-stream.js';
import { createGate } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { answering, useDaemonServer } from '../../support/daemon-server.js';

describe('daemon: retries, errors and the step cap (B10)', () => {
  const ctx = useDaemonServer({
    env: { CHAT_MAX_STEPS: '2' },
  });

  async function runChat(text: string) {
    const member = await ctx.server.createMember();
    const gate = createGate();
    // Hold the first answer until the test is subscribed, so it sees every event.
    ctx.llm.script({
      match: answering(text),
      gate: gate.promise,
      status: 503,
      errorMessage: 'held',
    });
    const created = await member.client.query(CreateChatMutation, { input: { text } });
    const stream = subscribeChat(member.client, created.createChat.id);
    await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
    return { member, chatId: created.createChat.id, stream, open: gate.open };
  }

  it('retries transient provider errors with RetryEvents, then finishes', async () => {
    const { member, chatId, stream, open } = await runChat('retry me');
    ctx.llm.script(
      { match: answering('retry me'), status: 429, errorMessage: 'slow down' },
      { match: answering('retry me'), text: 'made it' },
    );
    try {
      open();
      await stream.waitFor(isStatus('WAITING'));
      const retries = eventsOf(stream).filter((e) => e.__typename === 'RetryEvent');
      expect(retries.map((e) => ('attempt' in e ? e.attempt : 0))).toEqual([1, 2]);
      expect(retries[0]).toMatchObject({ error: expect.stringContaining('held') });
      expect((await loadHistory(member.client, chatId)).transcript).toEqual([
        'USER:retry me',
        'ASSISTANT:made it',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('sets ERROR with lastError on a hard provider error, without retrying', async () => {
    const { member, chatId, stream, open } = await runChat('hard fail');
    // The held 503 is transient: the next attempt gets a 400.
    ctx.llm.script({
      match: answering('hard fail'),
      status: 400,
      errorMessage: 'model does not exist',
    });
    try {
      open();
      await stream.waitFor(isStatus('ERROR'));
      const { chat } = await loadHistory(member.client, chatId);
      expect(chat.status).toBe('ERROR');
      expect(chat.lastError).toContain('model does not exist');
      expect(eventsOf(stream).some((e) => e.__typename === 'ErrorEvent')).toBe(true);
      expect(ctx.llm.requests.filter((r) => answering('hard fail')(r.body))).toHaveLength(2);
    } finally {
      await stream.close();
    }
  });

  it('stops at the step cap (CHAT_MAX_STEPS) and waits for the user', async () => {
    const { member, chatId, stream, open } = await runChat('loop');
    // The held first answer is a 503 (retried); then two tool-calling steps hit the cap of 2.
    ctx.llm.script(
      { match: answering('loop'), toolCalls: [{ name: 'current_time', args: {} }] },
      { match: answering('loop'), toolCalls: [{ name: 'current_time', args: {} }] },
      { match: answering('loop'), text: 'never asked' },
    );
    try {
      open();
      await stream.waitFor(isStatus('WAITING'));
      expect((await loadHistory(member.client, chatId)).roles).toEqual([
        'USER',
        'ASSISTANT',
        'TOOL',
        'ASSISTANT',
        'TOOL',
      ]);
      expect(ctx.llm.pending()).toBe(1);
    } finally {
      await stream.close();
      ctx.llm.reset();
    }
  });

  it('answers a tool call with unknown tool or bad JSON as an error result and goes on', async () => {
    const { member, chatId, stream, open } = await runChat('bad tools');
    ctx.llm.script(
      {
        match: answering('bad tools'),
        toolCalls: [
          { id: 'c1', name: 'no_such_tool', args: {} },
          { id: 'c2', name: 'current_time', args: '{not json' },
        ],
      },
      { match: answering('bad tools'), text: 'recovered' },
    );
    try {
      open();
      await stream.waitFor(isStatus('WAITING'));
      const { messages } = await loadHistory(member.client, chatId);
      const results = messages.filter((m) => m.role === 'TOOL').map((m) => m.parts[0]);
      expect(results).toEqual([
        expect.objectContaining({ toolCallId: 'c1', isError: true }),
        expect.objectContaining({ toolCallId: 'c2', isError: true }),
      ]);
      expect(messages.at(-1)?.role).toBe('ASSISTANT');
    } finally {
      await stream.close();
    }
  });
});
