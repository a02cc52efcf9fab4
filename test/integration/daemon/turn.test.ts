import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import {
  configureFakeModel,
  createGate,
  GENERATED_TITLE,
  isTurn,
  startScriptedLlm,
} from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const CHAT_EVENTS = `subscription ($chatId: ID!, $after: ID) {
  chatEvents(chatId: $chatId, afterMessageId: $after) {
    __typename
    ... on StatusEvent { status lastError }
    ... on MessageEvent { message { id role parts { type ... on TextPart { text } ... on ToolCallPart { toolCallId toolName args } ... on ToolResultPart { toolCallId toolName result isError } } usage { inputTokens outputTokens costMicros } } }
    ... on MessagePartEvent { messageId role part { type ... on TextPart { text } ... on ToolCallPart { toolCallId toolName args argsDelta } ... on ToolResultPart { toolCallId isError result } } }
    ... on RetryEvent { attempt delayMs error }
    ... on TitleEvent { title }
    ... on ErrorEvent { errorMessage: message }
  }
}`;

interface Part {
  type: string;
  text?: string;
  toolCallId?: string;
  toolName?: string;
  args?: unknown;
  argsDelta?: string | null;
  result?: unknown;
  isError?: boolean;
}
interface ChatEvent {
  chatEvents: {
    __typename: string;
    status?: string;
    lastError?: string | null;
    message?: {
      id: string;
      role: string;
      parts: Part[];
      usage: { inputTokens: number; outputTokens: number; costMicros: number } | null;
    };
    messageId?: string;
    role?: string;
    part?: Part;
    attempt?: number;
    title?: string;
  };
}

describe('daemon: a full turn (B10, B13, B14)', () => {
  let server: TestServer;
  let llm: FakeLlm;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    server = await startTestServer({ env: { CHAT_ACQUIRE_INTERVAL_MS: '100' } });
    await configureFakeModel(server.admin, llm);
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  it('streams text, runs a tool call, persists every step, and ends WAITING', async () => {
    const member = await server.createMember();
    const gate = createGate();
    llm.script(
      {
        match: isTurn,
        gate: gate.promise,
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
    const created = await member.client.query<{ createChat: { id: string } }>(
      'mutation { createChat(input: { text: "What time is it?" }) { id } }',
    );
    const chatId = created.createChat.id;
    const stream = member.client.subscribe<ChatEvent>(CHAT_EVENTS, { chatId });
    try {
      await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
      gate.open();
      await stream.waitFor((e) => e.chatEvents.status === 'WAITING');
      const events = stream.events.map((e) => e.chatEvents);
      const messages = events.filter((e) => e.__typename === 'MessageEvent').map((e) => e.message!);
      expect(messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT', 'TOOL', 'ASSISTANT']);
      const [, firstStep, toolResult, finalStep] = messages;
      expect(firstStep!.parts).toEqual([
        { type: 'TEXT', text: 'Let me check the time.' },
        { type: 'TOOL_CALL', toolCallId: 'call_1', toolName: 'current_time', args: {} },
      ]);
      expect(firstStep!.usage).toMatchObject({ inputTokens: 100, outputTokens: 20 });
      // 100 × $1/M + 20 × $2/M, in micro-dollars.
      expect(firstStep!.usage!.costMicros).toBeCloseTo(140, 5);
      expect(toolResult!.parts[0]).toMatchObject({
        type: 'TOOL_RESULT',
        toolCallId: 'call_1',
        isError: false,
      });
      expect(finalStep!.parts).toEqual([{ type: 'TEXT', text: 'It is now.' }]);
      const deltas = events.filter(
        (e) =>
          e.__typename === 'MessagePartEvent' &&
          e.part?.type === 'TEXT' &&
          e.messageId === finalStep!.id,
      );
      expect(deltas.map((e) => e.part!.text)).toEqual(['It is ', 'now.']);
      const statuses = events.filter((e) => e.__typename === 'StatusEvent').map((e) => e.status);
      // The snapshot status (PENDING or RUNNING, depending on the acquire), then live ones.
      expect(statuses.slice(-2)).toEqual(['RUNNING', 'WAITING']);
      expect(new Set(statuses).size).toBe(statuses.length);
      // The second model call saw the tool result.
      const secondRequest = llm.requests.filter((r) => r.stream)[1]!.body;
      expect(secondRequest.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });
      await stream.waitFor((e) => e.chatEvents.title === GENERATED_TITLE);
    } finally {
      await stream.close();
    }
  });
});
