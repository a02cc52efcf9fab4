import { insertMessagesUnderLease, reserveMessageId } from '../db/chat-leases.js';
import type { Deps } from '../deps.js';
import { computeCostMicros, type LlmMessage, type TokenUsage } from '../llm/index.js';
import { createChatEvents } from '../chats/events.js';
import type { CompactionHook } from './compaction.js';
import { turnMessage } from '../chats/turn-message.js';
import { SUMMARY_PREFIX } from './prompt.js';

/**
 * B21: when a step's prompt passed `compressionThreshold`% of the model's context limit, the
 * model summarises the conversation into one message (stored with isSummary; the originals stay
 * stored) and the turn continues from system prompt + summary. The summary call's usage is
 * recorded on the summary message, so accounting stays complete.
 */
export const SUMMARY_PROMPT = [
  'You are performing a context compaction. Summarize the conversation so a new assistant can',
  'seamlessly continue the work in progress.',
  '',
  'Include:',
  "- The user's overall goal and current task",
  '- Key decisions made and their rationale',
  '- Concrete technical details: file paths, function names, commands, APIs, and configurations',
  '- Errors encountered and how they were resolved',
  '- Current state of the work: what is DONE, what is IN PROGRESS, and what REMAINS to be done',
  '- The specific action the assistant was performing or about to perform',
  '',
  'Be dense and factual. Do not include pleasantries or conversational filler.',
].join('\n');

const MAX_THRESHOLD_PERCENT = 100;
const SUMMARY_MAX_OUTPUT_TOKENS = 4_096;

/** Prompt tokens of a step: everything the model read, cached or not. */
export function promptTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
}

/** Whether the prompt passed the threshold; 100 (or more) disables compaction. */
export function shouldCompact(usage: TokenUsage, contextLimit: number, thresholdPercent: number) {
  if (thresholdPercent >= MAX_THRESHOLD_PERCENT || contextLimit <= 0) return false;
  return (promptTokens(usage) / contextLimit) * 100 > thresholdPercent;
}

export function createCompactor(deps: Deps): CompactionHook {
  const events = createChatEvents(deps);
  return async ({ lease, chatId, model, usage, prompt, signal }) => {
    const { settings } = model;
    if (!shouldCompact(usage, settings.contextLimit, settings.compressionThreshold)) return null;
    const conversation = prompt.filter((message) => message.role !== 'system');
    // Nothing but system prompts: there is nothing to summarise, so no model call to pay for.
    if (conversation.length === 0) return null;
    const systemMessages = prompt.filter((message) => message.role === 'system');
    const { text, usage: summaryUsage } = await model.model.complete({
      messages: [...prompt, { role: 'user', content: SUMMARY_PROMPT }],
      maxOutputTokens: SUMMARY_MAX_OUTPUT_TOKENS,
      signal,
    });
    const summary = text.trim();
    if (!summary) {
      deps.logger.warn('compaction produced an empty summary; continuing uncompacted', { chatId });
      return null;
    }
    const id = await reserveMessageId(deps.sql);
    const [row] = await insertMessagesUnderLease(deps.sql, lease, [
      turnMessage({
        id,
        role: 'SYSTEM',
        parts: [{ type: 'TEXT', text: summary }],
        modelConfigId: settings.modelConfigId,
        usage: summaryUsage,
        costMicros: computeCostMicros(summaryUsage, settings.prices),
        isSummary: true,
      }),
    ]);
    await events.message(row!);
    const compacted: LlmMessage[] = [
      ...systemMessages,
      { role: 'user', content: `${SUMMARY_PREFIX}\n\n${summary}` },
    ];
    return compacted;
  };
}
