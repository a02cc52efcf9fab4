import { describe, expect, it } from 'vitest';
import { useFakeLlm } from '../../support/fake-llm.js';

/** The fake's /v1/messages on the wire: Anthropic's SSE event sequence and error shapes. */

const fake = useFakeLlm();

function messages(stream = true) {
  return fetch(`${fake.llm.anthropicBaseUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
    body: JSON.stringify({
      model: 'claude-x',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
      stream,
    }),
  });
}

async function events(response: Response) {
  const frames = (await response.text()).split('\n\n').filter((f) => f.length > 0);
  return frames.map((frame) => {
    const [eventLine, dataLine] = frame.split('\n');
    const data = JSON.parse(dataLine!.slice('data: '.length)) as Record<string, unknown>;
    expect(eventLine).toBe(`event: ${String(data.type)}`);
    return data;
  });
}

describe('fake /v1/messages', () => {
  it('streams message_start, ping, thinking, text and tool blocks, message_delta, message_stop', async () => {
    fake.llm.script({
      reasoning: ['hm'],
      reasoningSignature: 'sig',
      text: 'ok',
      toolCalls: [{ id: 'toolu_1', name: 'f', args: { a: 1 }, argsChunks: 1 }],
      usage: { promptTokens: 50, completionTokens: 7, cachedTokens: 20, cacheWriteTokens: 10 },
    });
    const all = await events(await messages());
    expect(all.map((e) => e.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const deltaTypes = all.flatMap((e) =>
      e.type === 'content_block_delta' ? [(e.delta as { type: string }).type] : [],
    );
    expect(deltaTypes).toEqual([
      'thinking_delta',
      'signature_delta',
      'text_delta',
      'input_json_delta',
    ]);
    expect(all.at(-2)).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: {
        input_tokens: 20,
        output_tokens: 7,
        cache_read_input_tokens: 20,
        cache_creation_input_tokens: 10,
      },
    });
    // Recorded in both shapes, with the key the client used.
    const [request] = fake.llm.requests;
    expect(request).toMatchObject({ api: 'anthropic', authorization: 'Bearer k' });
    expect(request?.body.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ]);
  });

  it('answers an error status with an Anthropic error body and its headers', async () => {
    fake.llm.script({ status: 529, errorMessage: 'Overloaded', headers: { 'retry-after': '3' } });
    const response = await messages();
    expect(response.status).toBe(529);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('sends an error event instead of finishing when a step says so', async () => {
    fake.llm.script({ text: 'par', streamError: { type: 'overloaded_error', message: 'busy' } });
    const all = await events(await messages());
    expect(all.at(-1)).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'busy' },
    });
  });

  it('answers a non-streaming request with a whole Message', async () => {
    fake.llm.script({ text: 'A title', finishReason: 'length' });
    const body = (await (await messages(false)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'A title' }],
      stop_reason: 'max_tokens',
    });
  });
});
