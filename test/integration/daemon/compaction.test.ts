import { describe, expect, it } from 'vitest';
import { SUMMARY_PROMPT } from '../../../src/daemon/compactor.js';
import { SUMMARY_PREFIX } from '../../../src/daemon/prompt.js';
import { lastUserText } from '../../../src/testing/fake-llm/index.js';
import { isStatus, subscribeChat } from '../../support/chat-stream.js';
import { createGate, isTurn } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';

describe('daemon: context compaction (B21)', () => {
  const ctx = useDaemonServer({
    model: { contextLimit: 1_000, compressionThreshold: 50 },
  });

  it('summarises past the threshold, keeps the originals, and continues from the summary', async () => {
    const member = await ctx.server.createMember();
    const gate = createGate();
    ctx.llm.script(
      {
        match: isTurn,
        gate: gate.promise,
        text: 'Working on it.',
        toolCalls: [{ id: 'c1', name: 'current_time', args: {} }],
        // 600 of 1000 tokens: past 50 %.
        usage: { promptTokens: 600, completionTokens: 10 },
      },
      {
        match: (body) => !body.stream && lastUserText(body) === SUMMARY_PROMPT,
        text: 'The user wants the time; current_time was called.',
        usage: { promptTokens: 620, completionTokens: 12 },
      },
      { match: isTurn, text: 'Done.', usage: { promptTokens: 50, completionTokens: 2 } },
    );
    const created = await member.client.query(CreateChatMutation, {
      input: { text: 'a long task' },
    });
    const chatId = created.createChat.id;
    const stream = subscribeChat(member.client, chatId);
    try {
      await stream.next();
      gate.open();
      await stream.waitFor(isStatus('WAITING'));
      const turns = ctx.llm.requests.filter((request) => request.stream);
      const afterSummary = turns[1]!.body.messages;
      // System prompt, then the summary; the original user message and tool round are gone.
      expect(afterSummary.map((message) => message.role)).toEqual(['system', 'user']);
      expect(afterSummary[1]!.content).toBe(
        `${SUMMARY_PREFIX}\n\nThe user wants the time; current_time was called.`,
      );
      const rows = await ctx.server.app.deps.prisma.chatMessage.findMany({
        where: { chatId },
        orderBy: { id: 'asc' },
      });
      expect(rows.map((row) => `${row.role}${row.isSummary ? '(summary)' : ''}`)).toEqual([
        'USER',
        'ASSISTANT',
        'TOOL',
        'SYSTEM(summary)',
        'ASSISTANT',
      ]);
      // The summary call's usage is accounted on the summary message.
      expect(rows[3]!.inputTokens).toBe(620);
      expect(rows[3]!.costMicros).toBeGreaterThan(0);
    } finally {
      await stream.close();
    }
  });
});
