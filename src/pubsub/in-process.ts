import type { PubSub } from './pubsub.js';
import { createMemoryStreamBuffer } from './stream-buffer.js';
import { topics } from './topics.js';

/**
 * Pub/sub inside one process: correct only when a single replica runs (the embedded default).
 * Payloads are cloned through JSON so subscribers see exactly what Redis would deliver.
 */
export function createInProcessPubSub(): PubSub {
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  const deliver = (channel: string, payload: unknown) => {
    const subscribers = handlers.get(channel);
    if (!subscribers) return;
    const wire = JSON.stringify(payload);
    for (const handler of [...subscribers]) handler(JSON.parse(wire));
  };
  return {
    streamBuffer: createMemoryStreamBuffer(async (chatId, event) =>
      deliver(topics.chatEvents(chatId).channel, event),
    ),
    async publish(topic, payload) {
      deliver(topic.channel, payload);
    },
    async subscribe(topic, onMessage) {
      const handler = onMessage as (payload: unknown) => void;
      let subscribers = handlers.get(topic.channel);
      if (!subscribers) {
        subscribers = new Set();
        handlers.set(topic.channel, subscribers);
      }
      subscribers.add(handler);
      return async () => {
        subscribers.delete(handler);
        if (subscribers.size === 0) handlers.delete(topic.channel);
      };
    },
    async ping() {},
    async close() {
      handlers.clear();
    },
  };
}
