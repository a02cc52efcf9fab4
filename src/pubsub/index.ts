import { createInProcessPubSub } from './in-process.js';
import type { Logger } from '../logger.js';
import type { PubSub } from './pubsub.js';
import { createRedisPubSub, type RedisPubSubHooks } from './redis.js';

export type { PubSub, SubscribeOptions, Unsubscribe } from './pubsub.js';
export { RedisUnavailableError } from './redis.js';
export { topics } from './topics.js';
export type * from './payloads.js';

/** Redis when REDIS_URL is set (rejects naming REDIS_URL when unreachable), else in-process. */
export function openPubSub(
  redisUrl: string | undefined,
  logger?: Logger,
  hooks?: RedisPubSubHooks,
): Promise<PubSub> {
  return redisUrl
    ? createRedisPubSub(redisUrl, logger, hooks)
    : Promise.resolve(createInProcessPubSub());
}
