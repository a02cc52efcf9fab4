import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { PubSub } from './pubsub.js';
import { createRedisStreamBuffer } from './stream-buffer.js';
import { topics } from './topics.js';

/** Redis-backed pub/sub (graphql-redis-subscriptions over two ioredis connections). */
export async function createRedisPubSub(url: string): Promise<PubSub> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const redis = new RedisPubSub({ publisher, subscriber });
  return {
    streamBuffer: createRedisStreamBuffer(publisher, (chatId) => topics.chatEvents(chatId).channel),
    publish: (topic, payload) => redis.publish(topic.channel, payload),
    async subscribe(topic, onMessage) {
      const subscriptionId = await redis.subscribe(topic.channel, onMessage);
      return async () => redis.unsubscribe(subscriptionId);
    },
    async ping() {
      await publisher.ping();
    },
    async close() {
      await redis.close();
    },
  };
}
