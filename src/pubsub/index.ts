import { createInProcessPubSub } from './in-process.js';
import type { Logger } from '../logger.js';
import type { PubSub } from './pubsub.js';
import { createRedisPubSub, type RedisPubSubHooks } from './redis.js';

export type { PubSub, SubscribeOptions, Unsubscribe } from './pubsub.js';
export { RedisUnavailableError } from './redis.js';
export { topics } from './topics.js';
export type * from './payloads.js';

/** The debug line logged once a subscription is active (tests of other processes wait for it). */
export const SUBSCRIPTION_ACTIVE_LOG = 'pub/sub subscription active';

/** Redis when REDIS_URL is set (rejects naming REDIS_URL when unreachable), else in-process. */
export async function openPubSub(
  redisUrl: string | undefined,
  logger?: Logger,
  hooks?: RedisPubSubHooks,
): Promise<PubSub> {
  const pubsub = redisUrl
    ? await createRedisPubSub(redisUrl, logger, hooks)
    : createInProcessPubSub();
  return logger ? logSubscriptions(pubsub, logger) : pubsub;
}

/**
 * Logs (at debug) each subscription once it is active: a subscription such as chatListEvents sends
 * nothing when it starts, so this line is the server's acknowledgement that everything published
 * afterwards reaches it.
 */
function logSubscriptions(pubsub: PubSub, logger: Logger): PubSub {
  const subscribe = pubsub.subscribe.bind(pubsub);
  pubsub.subscribe = async (topic, onMessage, options) => {
    const unsubscribe = await subscribe(topic, onMessage, options);
    logger.debug(SUBSCRIPTION_ACTIVE_LOG, { channel: topic.channel });
    return unsubscribe;
  };
  return pubsub;
}
