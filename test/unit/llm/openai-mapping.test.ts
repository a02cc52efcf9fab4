import { describe, expect, it } from 'vitest';
import {
  mapFinishReason,
  mapUsage,
  reasoningDelta,
  ToolCallAssembler,
} from '../../../src/llm/openai-mapping.js';

describe('mapUsage', () => {
  it('reads DeepSeek cache hits and OpenRouter cache writes, tolerating nulls', () => {
    expect(
      mapUsage({
        prompt_tokens: 100,
        completion_tokens: 10,
        prompt_cache_hit_tokens: 60,
        prompt_tokens_details: null,
      }),
    ).toEqual({
      inputTokens: 40,
      outputTokens: 10,
      reasoningTokens: 0,
      cacheReadTokens: 60,
      cacheWriteTokens: 0,
    });
    expect(
      mapUsage({
        prompt_tokens: 100,
        completion_tokens: 10,
        prompt_tokens_details: { cached_tokens: 20, cache_write_tokens: 30 },
      }),
    ).toMatchObject({ inputTokens: 50, cacheReadTokens: 20, cacheWriteTokens: 30 });
    expect(mapUsage(null)).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });
});

describe('mapFinishReason', () => {
  it('maps known reasons, reports stop-with-tool-calls as tool_calls, and the rest as other', () => {
    expect(mapFinishReason('stop', false)).toBe('stop');
    expect(mapFinishReason('stop', true)).toBe('tool_calls');
    expect(mapFinishReason('content_filter', false)).toBe('content_filter');
    expect(mapFinishReason('eos', false)).toBe('other');
  });
});

describe('reasoningDelta', () => {
  it('prefers reasoning_content and falls back to reasoning', () => {
    expect(reasoningDelta({ reasoning_content: 'a', reasoning: 'a' })).toBe('a');
    expect(reasoningDelta({ reasoning: 'b' })).toBe('b');
    expect(reasoningDelta({ content: 'c' })).toBe('');
  });
});

describe('ToolCallAssembler', () => {
  it('continues a call whose deltas carry no index, and gives id-less calls an id', () => {
    const assembler = new ToolCallAssembler();
    // Indexless deltas are typed as having an index; the cast models servers that omit it.
    const noIndex = (delta: object) => delta as { index: number };

    assembler.accept(noIndex({ function: { name: 'ls', arguments: '{"a"' } }));
    assembler.accept(noIndex({ function: { arguments: ':1}' } }));
    assembler.accept(noIndex({ id: 'call_2', function: { name: 'pwd', arguments: '' } }));

    const [first, second] = assembler.finish();
    expect(first).toMatchObject({ toolName: 'ls', args: { a: 1 } });
    expect(first?.toolCallId).toMatch(/^call_/);
    expect(second).toMatchObject({
      toolCallId: 'call_2',
      toolName: 'pwd',
      argsJson: '{}',
      args: {},
    });
  });
});
