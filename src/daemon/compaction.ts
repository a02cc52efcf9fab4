import type { ChatModel } from '../chats/chat-model.js';
import type { Lease } from '../db/chat-leases.js';
import type { LlmMessage, TokenUsage } from '../llm/index.js';

/** B21 hook: may return a compacted prompt after a step. Implemented in compactor.ts. */
export type CompactionHook = (input: {
  lease: Lease;
  chatId: string;
  model: ChatModel;
  usage: TokenUsage;
  prompt: LlmMessage[];
  signal: AbortSignal;
}) => Promise<LlmMessage[] | null>;
