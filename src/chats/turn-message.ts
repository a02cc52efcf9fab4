import type { NewTurnMessage } from '../db/chat-leases.js';
import type { TokenUsage } from '../llm/index.js';
import { storableJson } from '../text/storable.js';
import { CONTENT_VERSION, type MessagePart } from './parts.js';

/** A message a turn produced (the model's reply, a tool result, a summary), before storage. */
export interface NewMessage {
  id: bigint;
  role: 'ASSISTANT' | 'TOOL' | 'SYSTEM';
  parts: MessagePart[];
  modelConfigId: string | null;
  usage: TokenUsage | null;
  costMicros: number;
  isSummary?: boolean;
}

/** A turn's message in the form insertMessagesUnderLease writes. */
export function turnMessage(message: NewMessage): NewTurnMessage {
  return {
    id: message.id,
    role: message.role,
    // The one place the daemon's parts are serialised for storage: NUL and lone surrogates (tool
    // output, model output) become U+FFFD, or Postgres refuses the jsonb (22P05) and the whole
    // turn fails (src/text/storable.ts).
    partsJson: JSON.stringify(storableJson(message.parts)),
    contentVersion: CONTENT_VERSION,
    modelConfigId: message.modelConfigId,
    inputTokens: message.usage?.inputTokens ?? 0,
    outputTokens: message.usage?.outputTokens ?? 0,
    reasoningTokens: message.usage?.reasoningTokens ?? 0,
    cacheReadTokens: message.usage?.cacheReadTokens ?? 0,
    cacheWriteTokens: message.usage?.cacheWriteTokens ?? 0,
    costMicros: message.costMicros,
    isSummary: message.isSummary ?? false,
  };
}
