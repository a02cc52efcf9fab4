import type { UsagePayload } from '../../pubsub/index.js';
import { builder } from '../builder.js';

/** Token usage and cost; the shape of a message's stored columns and of every sum over them. */
export const UsageType = builder.objectRef<UsagePayload>('Usage').implement({
  fields: (t) => ({
    inputTokens: t.exposeFloat('inputTokens'),
    outputTokens: t.exposeFloat('outputTokens'),
    reasoningTokens: t.exposeFloat('reasoningTokens'),
    cacheReadTokens: t.exposeFloat('cacheReadTokens'),
    cacheWriteTokens: t.exposeFloat('cacheWriteTokens'),
    totalTokens: t.float({
      resolve: (usage) =>
        usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
    }),
    costMicros: t.exposeFloat('costMicros', {
      description: "Cost in micro-dollars (1e-6 USD), from the model config's prices.",
    }),
  }),
});
