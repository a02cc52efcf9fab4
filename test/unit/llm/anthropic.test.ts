import { describe, expect, it } from 'vitest';
import { ProviderError, type LlmMessage } from '../../../src/llm/index.js';
import { useFakeLlm } from '../../support/fake-llm.js';
import { collect, collectUntilError, HELLO, modelFor, ofType, TEST_API_KEY } from './support.js';

/** The native Anthropic provider against the fake's /v1/messages, same scripts as OpenAI's. */

const fake = useFakeLlm();

function anthropic(options: Parameters<typeof modelFor>[1] = {}) {
  // The fake's OpenAI base URL ends in /v1: the provider drops it, as it does for a pasted URL.
  return modelFor(fake.llm, { kind: 'ANTHROPIC', baseUrl: fake.llm.baseUrl, ...options });
}

function rawRequest(index = 0): Record<string, unknown> {
  const request = fake.llm.requests[index];
  expect(request?.api).toBe('anthropic');
  return request!.raw;
}

const WITH_SYSTEM: LlmMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'hello' },
];

describe('ANTHROPIC stream', () => {
  it('streams text, then cache-aware usage and the finish', async () => {
    fake.llm.script({
      text: ['Hel', 'lo'],
      usage: { promptTokens: 100, completionTokens: 2, cachedTokens: 60, cacheWriteTokens: 30 },
    });

    const chunks = await collect(anthropic().stream({ messages: WITH_SYSTEM }));

    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hel' },
      { type: 'text-delta', text: 'lo' },
      {
        type: 'usage',
        usage: {
          inputTokens: 10,
          outputTokens: 2,
          reasoningTokens: 0,
          cacheReadTokens: 60,
          cacheWriteTokens: 30,
        },
      },
      { type: 'finish', reason: 'stop' },
    ]);
    const raw = rawRequest();
    expect(fake.llm.requests[0]?.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(raw.max_tokens).toBe(8192);
    expect(raw.system).toEqual([
      { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(raw.messages).toEqual([
      {
        role: 'user',
        content: [{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral' } }],
      },
    ]);
  });

  it('streams parallel tool calls as argsDelta, then each call with parsed args', async () => {
    fake.llm.script({
      toolCalls: [
        { id: 'toolu_a', name: 'read_file', args: { path: 'a.ts' } },
        { id: 'toolu_b', name: 'list_dir', args: { path: '.' }, argsChunks: 2 },
      ],
    });
    const tools = [
      { name: 'read_file', description: 'Read', parameters: { type: 'object' } },
      { name: 'list_dir', description: 'List', parameters: { type: 'object' } },
    ];

    const chunks = await collect(anthropic().stream({ messages: HELLO, tools }));

    const deltas = ofType(chunks, 'tool-call-delta');
    expect(
      deltas
        .filter((d) => d.index === 0)
        .map((d) => d.argsDelta)
        .join(''),
    ).toBe('{"path":"a.ts"}');
    expect(deltas.filter((d) => d.index === 1)).toHaveLength(2);
    expect(ofType(chunks, 'tool-call')).toEqual([
      expect.objectContaining({
        toolCallId: 'toolu_a',
        toolName: 'read_file',
        args: { path: 'a.ts' },
      }),
      expect.objectContaining({ toolCallId: 'toolu_b', toolName: 'list_dir', args: { path: '.' } }),
    ]);
    expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
    const sentTools = rawRequest().tools as Record<string, unknown>[];
    expect(sentTools.map((t) => t.name)).toEqual(['read_file', 'list_dir']);
    expect(sentTools[0]?.cache_control).toBeUndefined();
    expect(sentTools[1]?.cache_control).toEqual({ type: 'ephemeral' });
  });

  it('streams thinking as reasoning with its signature, and sends signed blocks back', async () => {
    fake.llm.script(
      { reasoning: ['Let me ', 'think.'], reasoningSignature: 'sig-1', text: 'Done.' },
      { text: 'Again.' },
    );
    const model = anthropic({ options: { thinkingBudgetTokens: 2000, temperature: 0.3 } });

    const first = await collect(model.stream({ messages: HELLO }));
    expect(first.slice(0, 3)).toEqual([
      { type: 'reasoning-delta', text: 'Let me ' },
      { type: 'reasoning-delta', text: 'think.' },
      { type: 'reasoning-signature', signature: 'sig-1' },
    ]);
    const raw = rawRequest();
    expect(raw.thinking).toEqual({ type: 'enabled', budget_tokens: 2000 });
    // The API refuses a temperature next to thinking, and wants room past the budget.
    expect(raw.temperature).toBeUndefined();
    expect(raw.max_tokens).toBe(8192);

    await collect(
      model.stream({
        messages: [
          ...HELLO,
          {
            role: 'assistant',
            content: 'Done.',
            reasoning: [
              { text: 'Let me think.', signature: 'sig-1' },
              { text: 'from another provider, unsigned' },
            ],
          },
          { role: 'user', content: 'again' },
        ],
      }),
    );
    const messages = rawRequest(1).messages as { role: string; content: unknown[] }[];
    expect(messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Let me think.', signature: 'sig-1' },
        { type: 'text', text: 'Done.' },
      ],
    });
  });

  it('sends tool results as one user turn, results first', async () => {
    fake.llm.script({ text: 'ok' });
    await collect(
      anthropic().stream({
        messages: [
          ...HELLO,
          {
            role: 'assistant',
            content: '',
            toolCalls: [
              { id: 't1', name: 'a', argumentsJson: '{"x":1}' },
              { id: 't2', name: 'b', argumentsJson: '{}' },
            ],
          },
          { role: 'tool', toolCallId: 't1', content: '"one"' },
          { role: 'tool', toolCallId: 't2', content: '"two"' },
        ],
      }),
    );
    const messages = rawRequest().messages as { role: string; content: unknown[] }[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[1]?.content).toEqual([
      { type: 'tool_use', id: 't1', name: 'a', input: { x: 1 } },
      { type: 'tool_use', id: 't2', name: 'b', input: {} },
    ]);
    expect(messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 't1', content: '"one"' },
      {
        type: 'tool_result',
        tool_use_id: 't2',
        content: '"two"',
        cache_control: { type: 'ephemeral' },
      },
    ]);
    // The script's matchers see the same conversation in the chat-completions shape.
    expect(fake.llm.requests[0]?.body.messages.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'tool',
    ]);
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['pause_turn', 'pause'],
  ] as const)('maps the stop reason of a %s step to %s', async (scripted, mapped) => {
    fake.llm.script({ text: 'x', finishReason: scripted });
    const chunks = await collect(anthropic().stream({ messages: HELLO }));
    expect(chunks.at(-1)).toEqual({ type: 'finish', reason: mapped });
  });

  it('fails a 529 as transient, with the retry-after it asked for', async () => {
    fake.llm.script({ status: 529, errorMessage: 'Overloaded', headers: { 'retry-after': '2' } });
    const { error } = await collectUntilError(anthropic().stream({ messages: HELLO }));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 529, transient: true, retryAfterMs: 2000 });
    expect((error as Error).message).toContain('Overloaded');
  });

  it('fails a 400 as not transient', async () => {
    fake.llm.script({ status: 400, errorMessage: 'max_tokens: too large' });
    const { error } = await collectUntilError(anthropic().stream({ messages: HELLO }));
    expect(error).toMatchObject({ status: 400, transient: false });
  });

  it('fails an error event inside the stream by its type', async () => {
    fake.llm.script(
      { text: 'par', streamError: { type: 'overloaded_error', message: 'Overloaded' } },
      { text: 'x', streamError: { type: 'invalid_request_error', message: 'bad' } },
    );
    const overloaded = await collectUntilError(anthropic().stream({ messages: HELLO }));
    expect(overloaded.items).toEqual([{ type: 'text-delta', text: 'par' }]);
    expect(overloaded.error).toMatchObject({ status: 529, transient: true });
    const invalid = await collectUntilError(anthropic().stream({ messages: HELLO }));
    expect(invalid.error).toMatchObject({ status: 400, transient: false });
  });

  it('fails a stream cut before message_stop as transient', async () => {
    fake.llm.script({ text: 'a b c', dropAfterChunks: 4 });
    const { error } = await collectUntilError(anthropic().stream({ messages: HELLO }));
    expect(error).toMatchObject({ transient: true });
  });
});

describe('ANTHROPIC complete', () => {
  it('returns the text and usage, without thinking', async () => {
    fake.llm.script({ text: 'A title', usage: { promptTokens: 5, completionTokens: 2 } });
    const model = anthropic({ options: { thinkingBudgetTokens: 4000 } });
    const result = await model.complete({ messages: HELLO, maxOutputTokens: 20 });
    expect(result.text).toBe('A title');
    expect(result.usage).toMatchObject({ inputTokens: 5, outputTokens: 2 });
    expect(rawRequest()).toMatchObject({ max_tokens: 20 });
    expect(rawRequest().thinking).toBeUndefined();
  });
});

describe('OpenAI-compatible generation options', () => {
  it('sends reasoning_effort, temperature and the configured output cap', async () => {
    fake.llm.script({
      reasoning: ['hmm'],
      text: 'ok',
      usage: { promptTokens: 9, completionTokens: 1, cacheWriteTokens: 4 },
    });
    const model = modelFor(fake.llm, {
      kind: 'OPENAI',
      options: { reasoningEffort: 'HIGH', temperature: 1, maxOutputTokens: 300 },
    });
    const chunks = await collect(model.stream({ messages: HELLO }));
    expect(ofType(chunks, 'reasoning-delta')).toEqual([{ type: 'reasoning-delta', text: 'hmm' }]);
    expect(ofType(chunks, 'usage')[0]?.usage).toMatchObject({
      inputTokens: 5,
      cacheWriteTokens: 4,
    });
    expect(fake.llm.requests[0]?.body).toMatchObject({
      reasoning_effort: 'high',
      temperature: 1,
      max_completion_tokens: 300,
    });
  });
});
