import { describe, expect, it } from 'vitest';
import {
  isAbortError,
  ProviderError,
  type LlmMessage,
  type StreamChunk,
} from '../../../src/llm/index.js';
import { NO_SCRIPT_MESSAGE, startFakeLlm } from '../../../src/testing/fake-llm/index.js';
import { useFakeLlm } from '../../support/fake-llm.js';
import { collect, collectUntilError, HELLO, modelFor, ofType, TEST_API_KEY } from './support.js';

/** Short enough for a quick test, long enough that a loaded machine still sends headers in time. */
const SILENCE_TIMEOUT_MS = 1_000;

// A test that leaves steps behind scripted calls the code never made (checked after each test).
const fake = useFakeLlm();

describe('stream', () => {
  it('yields one text delta per provider chunk, then usage and finish last', async () => {
    fake.llm.script({
      text: ['Hel', 'lo', ' world'],
      usage: { promptTokens: 12, completionTokens: 3 },
    });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    expect(chunks).toEqual([
      { type: 'text-delta', text: 'Hel' },
      { type: 'text-delta', text: 'lo' },
      { type: 'text-delta', text: ' world' },
      {
        type: 'usage',
        usage: {
          inputTokens: 12,
          outputTokens: 3,
          reasoningTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        },
      },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('streams reasoning_content as reasoning deltas before the text', async () => {
    fake.llm.script({ reasoning: ['Let me ', 'think.'], text: ['Done.'] });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    expect(chunks.slice(0, 3)).toEqual([
      { type: 'reasoning-delta', text: 'Let me ' },
      { type: 'reasoning-delta', text: 'think.' },
      { type: 'text-delta', text: 'Done.' },
    ]);
  });

  it('assembles two parallel tool calls from their argument deltas', async () => {
    fake.llm.script({
      toolCalls: [
        { id: 'call_a', name: 'read_file', args: { path: 'src/a.ts' }, argsChunks: 3 },
        { id: 'call_b', name: 'execute', args: { command: 'ls -la', timeout: 5 }, argsChunks: 2 },
      ],
    });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    const deltas = ofType(chunks, 'tool-call-delta');
    expect(deltas.filter((d) => d.index === 0)).toHaveLength(3);
    expect(deltas.filter((d) => d.index === 1)).toHaveLength(2);
    expect(deltas[0]).toMatchObject({ toolCallId: 'call_a', toolName: 'read_file' });
    const joinedA = deltas.filter((d) => d.toolCallId === 'call_a').map((d) => d.argsDelta);
    expect(joinedA.join('')).toBe(JSON.stringify({ path: 'src/a.ts' }));

    expect(ofType(chunks, 'tool-call')).toEqual([
      {
        type: 'tool-call',
        toolCallId: 'call_a',
        toolName: 'read_file',
        argsJson: '{"path":"src/a.ts"}',
        args: { path: 'src/a.ts' },
      },
      {
        type: 'tool-call',
        toolCallId: 'call_b',
        toolName: 'execute',
        argsJson: '{"command":"ls -la","timeout":5}',
        args: { command: 'ls -la', timeout: 5 },
      },
    ]);
    // Final calls come after every delta, and finish is last.
    const firstFinal = chunks.findIndex((c) => c.type === 'tool-call');
    const lastDelta = chunks.findLastIndex((c) => c.type === 'tool-call-delta');
    expect(firstFinal).toBeGreaterThan(lastDelta);
    expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('reports invalid tool arguments with parseError instead of args', async () => {
    fake.llm.script({
      toolCalls: [{ id: 'call_x', name: 'write_file', args: '{"path": "a.ts", ' }],
    });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    const [call] = ofType(chunks, 'tool-call');
    expect(call?.argsJson).toBe('{"path": "a.ts", ');
    expect(call?.args).toBeUndefined();
    expect(call?.parseError).toMatch(/not valid JSON/);
  });

  it('maps usage so cached prompt tokens are billed once and reasoning is kept apart', async () => {
    fake.llm.script({
      text: 'ok',
      usage: { promptTokens: 1000, completionTokens: 300, reasoningTokens: 120, cachedTokens: 800 },
    });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    expect(ofType(chunks, 'usage')).toEqual([
      {
        type: 'usage',
        usage: {
          inputTokens: 200,
          outputTokens: 300,
          reasoningTokens: 120,
          cacheReadTokens: 800,
          cacheWriteTokens: 0,
        },
      },
    ]);
  });

  it('maps the finish reason length', async () => {
    fake.llm.script({ text: 'truncat', finishReason: 'length' });

    const chunks = await collect(modelFor(fake.llm).stream({ messages: HELLO }));

    expect(chunks.at(-1)).toEqual({ type: 'finish', reason: 'length' });
  });

  it('sends the conversation, tools, usage request and key the OpenAI way', async () => {
    const messages: LlmMessage[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'list files' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_1', name: 'execute', argumentsJson: '{"command":"ls"}' }],
      },
      { role: 'tool', toolCallId: 'call_1', content: 'a.ts' },
      { role: 'assistant', content: 'One file.' },
    ];
    const tools = [
      {
        name: 'execute',
        description: 'Run a command',
        parameters: { type: 'object', properties: { command: { type: 'string' } } },
      },
    ];
    fake.llm.script({ text: 'ok' });

    await collect(modelFor(fake.llm).stream({ messages, tools, maxOutputTokens: 256 }));

    const [request] = fake.llm.requests;
    expect(request?.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(request?.body).toMatchObject({
      model: 'fake-model',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 256,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'list files' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'execute', arguments: '{"command":"ls"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a.ts' },
        { role: 'assistant', content: 'One file.' },
      ],
      tools: [{ type: 'function', function: tools[0] }],
    });
    expect(request?.body.messages[4]).not.toHaveProperty('tool_calls');
  });

  it('asks OpenAI itself for max_completion_tokens', async () => {
    fake.llm.script({ text: 'ok' });

    await collect(
      modelFor(fake.llm, { kind: 'OPENAI' }).stream({ messages: HELLO, maxOutputTokens: 64 }),
    );

    expect(fake.llm.requests[0]?.body).toMatchObject({ max_completion_tokens: 64 });
    expect(fake.llm.requests[0]?.body).not.toHaveProperty('max_tokens');
  });
});

describe('complete', () => {
  it('returns the whole text and usage from a non-streaming call', async () => {
    fake.llm.script({
      text: 'A short title',
      usage: { promptTokens: 40, completionTokens: 4, cachedTokens: 10 },
    });

    const result = await modelFor(fake.llm).complete({ messages: HELLO, maxOutputTokens: 20 });

    expect(result).toEqual({
      text: 'A short title',
      usage: {
        inputTokens: 30,
        outputTokens: 4,
        reasoningTokens: 0,
        cacheReadTokens: 10,
        cacheWriteTokens: 0,
      },
    });
    expect(fake.llm.requests[0]?.body).toMatchObject({ stream: false, max_tokens: 20 });
  });

  it('turns an HTTP error into a ProviderError', async () => {
    fake.llm.script({ status: 503, errorMessage: 'overloaded' });

    const error = await modelFor(fake.llm)
      .complete({ messages: HELLO })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 503, transient: true });
  });
});

describe('provider errors', () => {
  async function streamError(): Promise<unknown> {
    const { error } = await collectUntilError(modelFor(fake.llm).stream({ messages: HELLO }));
    return error;
  }

  it('429 is transient and carries Retry-After', async () => {
    fake.llm.script({
      status: 429,
      errorMessage: 'Rate limit reached',
      headers: { 'retry-after': '2' },
    });

    const error = await streamError();

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, transient: true, retryAfterMs: 2000 });
    expect((error as ProviderError).message).toContain('Rate limit reached');
  });

  it('500 is transient', async () => {
    fake.llm.script({ status: 500, errorMessage: 'boom' });

    expect(await streamError()).toMatchObject({ status: 500, transient: true });
  });

  it('400 is not transient', async () => {
    fake.llm.script({ status: 400, errorMessage: 'bad messages' });

    const error = await streamError();

    expect(error).toMatchObject({ status: 400, transient: false });
    expect((error as ProviderError).retryAfterMs).toBeUndefined();
  });

  it('401 is not transient and its message never shows the API key', async () => {
    fake.llm.script({ status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` });

    const error = await streamError();

    expect(error).toMatchObject({ status: 401, transient: false });
    expect((error as ProviderError).message).toContain('Incorrect API key provided');
    expect((error as ProviderError).message).not.toContain(TEST_API_KEY);
  });

  it('a connection reset mid-stream is transient, after the chunks that did arrive', async () => {
    fake.llm.script({ text: ['one', 'two', 'three'], dropAfterChunks: 2 });

    const { items, error } = await collectUntilError(
      modelFor(fake.llm).stream({ messages: HELLO }),
    );

    expect(items).toEqual([{ type: 'text-delta', text: 'one' }]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ transient: true });
  });

  it('a refused connection is transient', async () => {
    const gone = await startFakeLlm();
    await gone.close();

    const { error } = await collectUntilError(modelFor(gone).stream({ messages: HELLO }));

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ transient: true });
  });

  it('an unexpected call hits the fallback: HTTP 500 saying nothing was scripted', async () => {
    const error = await streamError();

    expect(error).toMatchObject({ status: 500 });
    expect((error as ProviderError).message).toContain(NO_SCRIPT_MESSAGE);
    expect(fake.llm.requests.map((r) => r.source)).toEqual(['fallback']);
  });

  it('a provider that goes silent mid-stream times out as a transient error', async () => {
    fake.llm.script({ text: ['partial'], hang: true });

    const { items, error } = await collectUntilError(
      modelFor(fake.llm, {}, { timeoutMs: SILENCE_TIMEOUT_MS }).stream({ messages: HELLO }),
    );

    expect(items).toEqual([{ type: 'text-delta', text: 'partial' }]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ transient: true });
    expect((error as ProviderError).message).toContain(`sent nothing for ${SILENCE_TIMEOUT_MS} ms`);
  });
});

describe('abort', () => {
  it('aborting a hanging stream rejects with an abort error, keeping what arrived', async () => {
    fake.llm.script({ text: ['partial'], hang: true });
    const controller = new AbortController();
    const seen: StreamChunk[] = [];

    const run = (async () => {
      for await (const chunk of modelFor(fake.llm).stream({
        messages: HELLO,
        signal: controller.signal,
      })) {
        seen.push(chunk);
        if (chunk.type === 'text-delta') controller.abort();
      }
    })();

    const error = await run.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(ProviderError);
    expect(seen).toEqual([{ type: 'text-delta', text: 'partial' }]);
  });

  it('aborting before the headers rejects with the signal reason as-is', async () => {
    fake.llm.script({ delayMs: 60_000, text: 'never' });
    const controller = new AbortController();
    const reason = new Error('interrupted by user');

    const run = modelFor(fake.llm).complete({ messages: HELLO, signal: controller.signal });
    await fake.llm.waitForRequests(1);
    controller.abort(reason);

    await expect(run).rejects.toBe(reason);
  });

  it('an already aborted signal makes no request', async () => {
    const controller = new AbortController();
    controller.abort();

    const { error } = await collectUntilError(
      modelFor(fake.llm).stream({ messages: HELLO, signal: controller.signal }),
    );

    expect(isAbortError(error)).toBe(true);
    expect(fake.llm.requests).toHaveLength(0);
  });
});

describe('unsupported configurations', () => {
  it('OPENAI_COMPATIBLE without a base URL fails instead of calling api.openai.com', async () => {
    const model = modelFor(fake.llm, { baseUrl: null });

    const error = await model.complete({ messages: HELLO }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ transient: false });
    expect((error as ProviderError).message).toMatch(/base URL/);
  });
});

describe('options', () => {
  it('sends requests through the given fetch', async () => {
    const seen: string[] = [];
    const tracingFetch: typeof fetch = (input, init) => {
      seen.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    };
    fake.llm.script({ text: 'ok' });

    await modelFor(fake.llm, {}, { fetch: tracingFetch }).complete({ messages: HELLO });

    expect(seen).toEqual([`${fake.llm.baseUrl}/chat/completions`]);
  });

  it('a stream that ends cleanly without a finish reason is a transient error', async () => {
    // A proxy that closes the response early but cleanly: the body keeps only the first events.
    const KEPT_EVENTS = 2;
    const truncatingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const events = (await response.text()).split('\n\n').slice(0, KEPT_EVENTS);
      return new Response(`${events.join('\n\n')}\n\n`, { headers: response.headers });
    };
    fake.llm.script({ text: ['one', 'two'] });

    const { items, error } = await collectUntilError(
      modelFor(fake.llm, {}, { fetch: truncatingFetch }).stream({ messages: HELLO }),
    );

    expect(items).toEqual([{ type: 'text-delta', text: 'one' }]);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ transient: true });
    expect((error as ProviderError).message).toMatch(/before finishing/);
  });
});
