import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  echoFallback,
  lastUserText,
  NO_SCRIPT_MESSAGE,
  startFakeLlm,
  type FakeLlm,
} from '../../../src/testing/fake-llm/index.js';

let llm: FakeLlm;

beforeAll(async () => {
  llm = await startFakeLlm();
});
afterEach(() => {
  llm.reset();
});
afterAll(async () => {
  await llm.close();
});

interface ChatOptions {
  stream?: boolean;
  includeUsage?: boolean;
  content?: string;
}

function chat(
  target: FakeLlm,
  { stream = true, includeUsage = true, content = 'hi' }: ChatOptions = {},
) {
  return fetch(`${target.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({
      model: 'm1',
      messages: [{ role: 'user', content }],
      stream,
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    }),
  });
}

/** Parses an SSE body into its JSON chunks, checking it ends with [DONE]. */
async function sseChunks(response: Response): Promise<Record<string, unknown>[]> {
  const events = (await response.text()).split('\n\n').filter((e) => e.length > 0);
  expect(events.at(-1)).toBe('data: [DONE]');
  return events.slice(0, -1).map((event) => {
    expect(event.startsWith('data: ')).toBe(true);
    return JSON.parse(event.slice('data: '.length)) as Record<string, unknown>;
  });
}

function choiceOf(chunk: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const choices = chunk?.choices;
  return Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
}

describe('streaming', () => {
  it('sends OpenAI-shaped chunks: role, content, finish, usage with empty choices, [DONE]', async () => {
    llm.script({
      text: ['Hel', 'lo'],
      usage: { promptTokens: 9, completionTokens: 2, reasoningTokens: 1, cachedTokens: 4 },
    });

    const response = await chat(llm);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const chunks = await sseChunks(response);

    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'm1' });
      expect(chunk.id).toBe(chunks[0]?.id);
    }
    expect(chunks.map((c) => choiceOf(c)?.delta)).toEqual([
      { role: 'assistant', content: '', refusal: null },
      { content: 'Hel' },
      { content: 'lo' },
      {},
      undefined,
    ]);
    expect(choiceOf(chunks[3])?.finish_reason).toBe('stop');
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 2,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 1 },
      },
    });
  });

  it('sends no usage chunk unless stream_options.include_usage asks for it', async () => {
    llm.script({ text: 'plain' });

    const chunks = await sseChunks(await chat(llm, { includeUsage: false }));

    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(choiceOf(chunks.at(-1))?.finish_reason).toBe('stop');
  });

  it('splits a string into a few word-boundary chunks that join back to it', async () => {
    const text = 'The quick brown fox jumps over the lazy dog';
    llm.script({ text });

    const chunks = await sseChunks(await chat(llm));
    const contents = chunks
      .map((c) => choiceOf(c)?.delta)
      .map((d) => (d as { content?: string } | undefined)?.content)
      .filter((c): c is string => typeof c === 'string' && c.length > 0);

    expect(contents.length).toBeGreaterThan(1);
    expect(contents.join('')).toBe(text);
  });

  it('streams tool calls like OpenAI: a head delta, then the arguments in pieces', async () => {
    llm.script({
      toolCalls: [{ id: 'call_1', name: 'read_file', args: { path: 'a.ts' }, argsChunks: 4 }],
    });

    const chunks = await sseChunks(await chat(llm));
    const toolDeltas = chunks
      .map((c) => (choiceOf(c)?.delta as { tool_calls?: unknown[] } | undefined)?.tool_calls?.[0])
      .filter((d) => d !== undefined);

    expect(toolDeltas[0]).toEqual({
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: 'read_file', arguments: '' },
    });
    const rest = toolDeltas.slice(1) as { index: number; function: { arguments: string } }[];
    expect(rest).toHaveLength(4);
    expect(rest.every((d) => d.index === 0 && !('id' in d))).toBe(true);
    expect(rest.map((d) => d.function.arguments).join('')).toBe('{"path":"a.ts"}');
    expect(chunks.map((c) => choiceOf(c)?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('resets the connection after dropAfterChunks chunks', async () => {
    llm.script({ text: ['a', 'b', 'c'], dropAfterChunks: 2 });

    const response = await chat(llm);

    await expect(response.text()).rejects.toThrow();
  });

  it('close() ends a hanging response', async () => {
    const own = await startFakeLlm();
    own.script({ text: ['partial'], hang: true });
    const response = await chat(own);
    const body = response.text();

    await own.close();

    await expect(body).rejects.toThrow();
  });
});

describe('non-streaming', () => {
  it('answers a chat.completion object with message, finish reason and usage', async () => {
    llm.script({ text: 'Hello there', usage: { promptTokens: 5, completionTokens: 2 } });

    const response = await chat(llm, { stream: false });
    const body = (await response.json()) as Record<string, unknown>;

    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'm1',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
  });

  it('estimates usage from lengths when the step scripts none', async () => {
    llm.script({ text: 'x'.repeat(40) });

    const body = (await (await chat(llm, { stream: false })).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };

    expect(body.usage.completion_tokens).toBe(10);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });
});

describe('errors and fallback', () => {
  it('answers a scripted status with an OpenAI-style error body and extra headers', async () => {
    llm.script({ status: 429, errorMessage: 'slow down', headers: { 'retry-after': '3' } });

    const response = await chat(llm);

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toMatchObject({
      error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' },
    });
  });

  it('fails an unscripted call with HTTP 500 and records it as fallback', async () => {
    const response = await chat(llm);

    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ error: { message: NO_SCRIPT_MESSAGE } });
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]).toMatchObject({
      source: 'fallback',
      stream: true,
      authorization: 'Bearer k',
    });
  });

  it('rejects a body without messages', async () => {
    const response = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm' }),
    });

    expect(response.status).toBe(400);
    expect(llm.requests).toHaveLength(0);
  });

  it('echoFallback streams the last user message back and titles non-streaming calls', async () => {
    const echo = await startFakeLlm({ fallback: echoFallback });
    try {
      const streamed = await sseChunks(await chat(echo, { content: 'build me a parser' }));
      const text = streamed
        .map((c) => (choiceOf(c)?.delta as { content?: string } | undefined)?.content ?? '')
        .join('');
      const titled = (await (
        await chat(echo, { stream: false, content: 'Fix the login page, please. It is broken' })
      ).json()) as { choices: { message: { content: string } }[] };

      expect(text).toBe('You said: build me a parser');
      expect(titled.choices[0]?.message.content).toBe('Fix the login page, please');
      expect(echo.requests.map((r) => r.source)).toEqual(['fallback', 'fallback']);
    } finally {
      await echo.close();
    }
  });
});

describe('script routing', () => {
  it('gives a request the first queued step whose match passes', async () => {
    llm.script(
      { match: (body) => lastUserText(body).includes('title'), text: 'T' },
      { text: 'main answer' },
    );

    const first = await chat(llm, { stream: false, content: 'main question' });
    const second = await chat(llm, { stream: false, content: 'make a title' });
    const contentOf = async (r: Response) =>
      ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message
        .content;

    expect(await contentOf(first)).toBe('main answer');
    expect(await contentOf(second)).toBe('T');
    expect(llm.pending()).toBe(0);
    expect(llm.requests.map((r) => r.source)).toEqual(['script', 'script']);
  });

  it('sends a request that matches no step to the fallback and keeps the step', async () => {
    llm.script({ match: () => false, text: 'unused' });

    const response = await chat(llm);

    expect(response.status).toBe(500);
    expect(llm.pending()).toBe(1);
  });

  it('waitForRequests resolves when the request arrives, before a delayed answer', async () => {
    llm.script({ delayMs: 60_000, text: 'late' });
    const controller = new AbortController();
    const call = fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'q' }] }),
      signal: controller.signal,
    }).catch((e: unknown) => e);

    const requests = await llm.waitForRequests(1);
    controller.abort();

    expect(requests[0]?.body.messages[0]).toEqual({ role: 'user', content: 'q' });
    expect(await call).toBeInstanceOf(Error);
  });

  it('waitForRequests rejects naming the counts when too few arrive', async () => {
    await expect(llm.waitForRequests(1, 20)).rejects.toThrow(/for 1 requests, got 0/);
  });
});

describe('control API', () => {
  it('POST /__script enqueues steps and GET /__requests lists what was asked', async () => {
    const base = llm.baseUrl.replace(/\/v1$/, '');
    const scripted = await fetch(`${base}/__script`, {
      method: 'POST',
      body: JSON.stringify([{ text: 'from afar' }, { status: 500 }]),
    });
    expect(await scripted.json()).toEqual({ pending: 2 });

    const ok = await chat(llm, { stream: false, content: 'one' });
    const failed = await chat(llm, { stream: false, content: 'two' });
    const recorded = (await (await fetch(`${base}/__requests`)).json()) as {
      body: { messages: { content: string }[] };
      source: string;
    }[];

    expect(ok.status).toBe(200);
    expect(failed.status).toBe(500);
    expect(recorded.map((r) => [r.body.messages[0]?.content, r.source])).toEqual([
      ['one', 'script'],
      ['two', 'script'],
    ]);
  });

  it('POST /__script refuses unknown fields and changes nothing', async () => {
    const base = llm.baseUrl.replace(/\/v1$/, '');

    const response = await fetch(`${base}/__script`, {
      method: 'POST',
      body: JSON.stringify([{ text: 'ok' }, { txet: 'typo' }]),
    });

    expect(response.status).toBe(400);
    expect(llm.pending()).toBe(0);
  });
});
