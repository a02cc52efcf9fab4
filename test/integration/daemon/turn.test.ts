import { describe, expect, it } from 'vitest';
import { eventsOf, isStatus, persistedMessages, subscribeChat } from '../../support/chat-stream.js';
import { createGate, GENERATED_TITLE, isTurn } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';

describe('daemon: a full turn (B10, B13, B14, B22)', () => {
  const ctx = useDaemonServer();

  it('streams text, runs a tool call, persists every step, and ends WAITING', async () => {
    const member = await ctx.server.createMember();
    const gate = createGate();
    ctx.llm.script(
      {
        match: isTurn,
        gate: gate.promise,
        reasoning: ['Thinking', ' about time.'],
        text: ['Let me ', 'check the time.'],
        toolCalls: [{ id: 'call_1', name: 'current_time', args: {} }],
        usage: { promptTokens: 100, completionTokens: 20 },
      },
      {
        match: isTurn,
        text: ['It is ', 'now.'],
        usage: { promptTokens: 150, completionTokens: 5 },
      },
    );
    const created = await member.client.query(CreateChatMutation, {
      input: { text: 'What time is it?' },
    });
    const chatId = created.createChat.id;
    const stream = subscribeChat(member.client, chatId);
    try {
      await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
      gate.open();
      await stream.waitFor(isStatus('WAITING'));
      const events = eventsOf(stream);
      const messages = persistedMessages(stream);
      expect(messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT', 'TOOL', 'ASSISTANT']);
      const [, firstStep, toolResult, finalStep] = messages;
      expect(firstStep!.parts).toEqual([
        { type: 'REASONING', text: 'Thinking about time.' },
        { type: 'TEXT', text: 'Let me check the time.' },
        { type: 'TOOL_CALL', toolCallId: 'call_1', toolName: 'current_time', args: {} },
      ]);
      expect(firstStep!.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
      // 100 × 1e6 µ$/M + 20 × 2e6 µ$/M = 100 + 40 micro-dollars.
      expect(firstStep!.usage!.costMicros).toBeCloseTo(140, 5);
      expect(toolResult!.parts[0]).toMatchObject({
        type: 'TOOL_RESULT',
        toolCallId: 'call_1',
        isError: false,
      });
      expect(finalStep!.parts).toEqual([{ type: 'TEXT', text: 'It is now.' }]);

      const partsOf = (messageId: string) =>
        events.flatMap((e) =>
          e.__typename === 'MessagePartEvent' && e.messageId === messageId ? [e.part] : [],
        );
      // Deltas carry the id the step is persisted as and concatenate to its text; the server may
      // merge provider chunks (B14), never split them.
      const finalDeltas = partsOf(finalStep!.id).map((p) => ('text' in p ? p.text : null));
      expect(finalDeltas.join('')).toBe('It is now.');
      expect(finalDeltas.length).toBeLessThanOrEqual(2);
      const firstParts = partsOf(firstStep!.id);
      const reasoning = firstParts.flatMap((p) =>
        p.type === 'REASONING' && 'text' in p ? [p.text] : [],
      );
      expect(reasoning.join('')).toBe('Thinking about time.');
      expect(
        firstParts.flatMap((p) => (p.type === 'TEXT' && 'text' in p ? [p.text] : [])).join(''),
      ).toBe('Let me check the time.');
      const argsDeltas = firstParts.filter(
        (p) => p.type === 'TOOL_CALL' && 'argsDelta' in p && p.argsDelta,
      );
      expect(argsDeltas.length).toBeGreaterThan(0);
      expect(firstParts.at(-1)).toMatchObject({
        type: 'TOOL_CALL',
        toolCallId: 'call_1',
        args: {},
      });
      // The tool's result streams as it finishes, unless its persisted message overtook it (the
      // subscriber then drops the part: the MessageEvent is final and nothing is sent twice).
      for (const part of partsOf(toolResult!.id)) {
        expect(part).toMatchObject({ type: 'TOOL_RESULT', toolCallId: 'call_1', isError: false });
      }

      const statuses = events.flatMap((e) => (e.__typename === 'StatusEvent' ? [e.status] : []));
      expect(statuses.slice(-2)).toEqual(['RUNNING', 'WAITING']);
      expect(new Set(statuses).size).toBe(statuses.length);
      // The second model call saw the tool result.
      const secondRequest = ctx.llm.requests.filter((r) => r.stream)[1]!.body;
      expect(secondRequest.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });
      await stream.waitFor((e) => e.chatEvents.__typename === 'TitleEvent');
      expect(eventsOf(stream).find((e) => e.__typename === 'TitleEvent')).toMatchObject({
        title: GENERATED_TITLE,
      });
    } finally {
      await stream.close();
    }
  });
});
