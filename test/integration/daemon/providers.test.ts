import { beforeAll, describe, expect, it } from 'vitest';
import type { ScriptedResponse } from '../../../src/testing/fake-llm/index.js';
import {
  eventsOf,
  isStatus,
  loadHistory,
  persistedMessages,
  subscribeChat,
} from '../../support/chat-stream.js';
import { answering, useDaemonServer } from '../../support/daemon-server.js';
import { configureFakeModel, createGate, FAKE_PROVIDER_KINDS } from '../../support/llm.js';
import { CreateChatMutation, SendMessageMutation } from '../../support/operations.js';

/**
 * The daemon's provider scenarios, once per provider kind the fake speaks: the same scripts run
 * through the OpenAI-compatible client on /v1/chat/completions and the native Anthropic client on
 * /v1/messages (issue #10). One server and one fake for the file; a model config per kind.
 */
const PRICES = {
  inputPriceMicros: 1_000_000,
  outputPriceMicros: 2_000_000,
  cacheReadPriceMicros: 100_000,
  cacheWritePriceMicros: 1_250_000,
};

describe('daemon: provider scenarios on both provider kinds (issue #10)', () => {
  const ctx = useDaemonServer();
  const modelConfigs = new Map<string, string>();

  beforeAll(async () => {
    for (const kind of FAKE_PROVIDER_KINDS) {
      const { modelConfigId } = await configureFakeModel(ctx.server.admin, ctx.llm, {
        kind,
        isDefault: false,
        thinkingBudgetTokens: 2048,
        ...PRICES,
      });
      modelConfigs.set(kind, modelConfigId);
    }
  });

  describe.each(FAKE_PROVIDER_KINDS)('%s', (kind) => {
    /** Starts a chat on this kind whose first answer waits until the test is subscribed. */
    async function startChat(text: string, first: ScriptedResponse, ...rest: ScriptedResponse[]) {
      const member = await ctx.server.createMember();
      const gate = createGate();
      ctx.llm.script(
        { ...first, match: answering(text), gate: gate.promise },
        ...rest.map((step) => ({ ...step, match: answering(text) })),
      );
      const created = await member.client.query(CreateChatMutation, {
        input: { text, modelConfigId: modelConfigs.get(kind) },
      });
      const chatId = created.createChat.id;
      const stream = subscribeChat(member.client, chatId);
      await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
      gate.open();
      return { member, chatId, stream };
    }

    const requestsFor = (text: string) => ctx.llm.requests.filter((r) => answering(text)(r.body));

    it('streams reasoning, text and a tool call, prices cache tokens, and sends reasoning back', async () => {
      const text = `what time is it (${kind})`;
      const { member, chatId, stream } = await startChat(
        text,
        {
          reasoning: ['Thinking', ' hard.'],
          reasoningSignature: `sig-${kind}`,
          text: ['Let me ', 'check.'],
          toolCalls: [{ id: 'call_1', name: 'current_time', args: {} }],
          usage: {
            promptTokens: 1000,
            completionTokens: 20,
            cachedTokens: 600,
            cacheWriteTokens: 300,
          },
        },
        { text: 'It is now.' },
      );
      try {
        await stream.waitFor(isStatus('WAITING'));
        const messages = persistedMessages(stream);
        expect(messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT', 'TOOL', 'ASSISTANT']);
        const firstStep = messages[1]!;
        expect(firstStep.parts).toEqual([
          { type: 'REASONING', text: 'Thinking hard.' },
          { type: 'TEXT', text: 'Let me check.' },
          { type: 'TOOL_CALL', toolCallId: 'call_1', toolName: 'current_time', args: {} },
        ]);
        // Uncached 100 × $1/M + 600 read × $0.10/M + 300 written × $1.25/M + 20 out × $2/M.
        expect(firstStep.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
        expect(firstStep.usage!.costMicros).toBeCloseTo(100 + 60 + 375 + 40, 5);
        const argsDeltas = eventsOf(stream).filter(
          (e) =>
            e.__typename === 'MessagePartEvent' &&
            e.part.type === 'TOOL_CALL' &&
            'argsDelta' in e.part &&
            e.part.argsDelta,
        );
        expect(argsDeltas.length).toBeGreaterThan(0);

        const again = `and now (${kind})`;
        ctx.llm.script({ match: answering(again), text: 'Still now.' });
        await member.client.query(SendMessageMutation, { input: { chatId, text: again } });
        await stream.waitFor(
          (e) =>
            e.chatEvents.__typename === 'MessageEvent' &&
            e.chatEvents.message.role === 'ASSISTANT' &&
            e.chatEvents.message.parts.some((p) => 'text' in p && p.text === 'Still now.'),
        );

        const [, toolFollowUp] = requestsFor(text);
        const [nextTurn] = requestsFor(again);
        expect(toolFollowUp?.body.messages.at(-1)).toMatchObject({
          role: 'tool',
          tool_call_id: 'call_1',
        });
        if (kind === 'ANTHROPIC') {
          // Within the turn (from the loop) and on the next turn (from the database) alike.
          for (const request of [toolFollowUp, nextTurn]) {
            const sent = request?.raw.messages as { role: string; content: unknown[] }[];
            expect(sent[1]).toMatchObject({
              role: 'assistant',
              content: [
                { type: 'thinking', thinking: 'Thinking hard.', signature: `sig-${kind}` },
                { type: 'text', text: 'Let me check.' },
                { type: 'tool_use', id: 'call_1', name: 'current_time' },
              ],
            });
            expect(request?.raw.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
          }
        }
        expect((await loadHistory(member.client, chatId)).transcript.at(-1)).toBe(
          'ASSISTANT:Still now.',
        );
      } finally {
        await stream.close();
      }
    });

    it('runs parallel tool calls and answers them together, in call order', async () => {
      const text = `two clocks (${kind})`;
      const { member, chatId, stream } = await startChat(
        text,
        {
          toolCalls: [
            { id: 'call_a', name: 'current_time', args: {} },
            { id: 'call_b', name: 'current_time', args: {} },
          ],
        },
        { text: 'Both agree.' },
      );
      try {
        await stream.waitFor(isStatus('WAITING'));
        expect((await loadHistory(member.client, chatId)).roles).toEqual([
          'USER',
          'ASSISTANT',
          'TOOL',
          'TOOL',
          'ASSISTANT',
        ]);
        const followUp = requestsFor(text)[1]!;
        expect(followUp.body.messages.slice(-2)).toMatchObject([
          { role: 'tool', tool_call_id: 'call_a' },
          { role: 'tool', tool_call_id: 'call_b' },
        ]);
        if (kind === 'ANTHROPIC') {
          const sent = followUp.raw.messages as { role: string; content: { type: string }[] }[];
          expect(sent.at(-1)?.content.map((b) => b.type)).toEqual(['tool_result', 'tool_result']);
        }
      } finally {
        await stream.close();
      }
    });

    it('retries an overloaded provider (529, retry-after) and then finishes', async () => {
      const text = `overloaded (${kind})`;
      const { member, chatId, stream } = await startChat(
        text,
        { status: 529, errorMessage: 'Overloaded', headers: { 'retry-after': '0' } },
        { text: 'made it' },
      );
      try {
        await stream.waitFor(isStatus('WAITING'));
        const retries = eventsOf(stream).filter((e) => e.__typename === 'RetryEvent');
        expect(retries).toEqual([
          expect.objectContaining({
            attempt: 1,
            delayMs: 0,
            error: expect.stringContaining('Overloaded'),
          }),
        ]);
        expect((await loadHistory(member.client, chatId)).transcript).toEqual([
          `USER:${text}`,
          'ASSISTANT:made it',
        ]);
      } finally {
        await stream.close();
      }
    });

    it('ends in ERROR on a non-transient provider error, without retrying', async () => {
      const text = `bad model (${kind})`;
      const { member, chatId, stream } = await startChat(text, {
        status: 400,
        errorMessage: 'model does not exist',
      });
      try {
        await stream.waitFor(isStatus('ERROR'));
        const { chat } = await loadHistory(member.client, chatId);
        expect(chat.lastError).toContain('model does not exist');
        expect(chat.lastError).toContain('HTTP 400');
        expect(requestsFor(text)).toHaveLength(1);
      } finally {
        await stream.close();
      }
    });
  });
});
