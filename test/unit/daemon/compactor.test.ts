import { describe, expect, it } from 'vitest';
import type { ChatModel } from '../../../src/chats/chat-model.js';
import { createCompactor } from '../../../src/daemon/compactor.js';
import type { Deps } from '../../../src/deps.js';
import type { Lease } from '../../../src/db/chat-leases.js';

describe('compactor', () => {
  it('does not call the model when the prompt holds nothing but system messages', async () => {
    let modelCalls = 0;
    const model = {
      settings: { contextLimit: 1_000, compressionThreshold: 50 },
      model: {
        complete: async () => {
          modelCalls++;
          return { text: 'summary', usage: {} };
        },
      },
    } as unknown as ChatModel;
    // Nothing of deps may be touched when there is nothing to summarise.
    const compact = createCompactor({} as Deps);
    const compacted = await compact({
      lease: {} as Lease,
      chatId: 'chat',
      model,
      usage: {
        inputTokens: 900,
        outputTokens: 0,
        reasoningTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      },
      prompt: [{ role: 'system', content: 'You are a coding agent. '.repeat(100) }],
      signal: new AbortController().signal,
    });
    expect(compacted).toBeNull();
    expect(modelCalls).toBe(0);
  });
});
