import { createInProcessPubSub } from './in-process.js';
import type { PubSub } from './pubsub.js';
import { createRedisPubSub } from './redis.js';

export type { PubSub, Unsubscribe } from './pubsub.js';
export { topics } from './topics.js';
export type * from './payloads.js';

export function openPubSub(redisUrl: string | undefined): Promise<PubSub> {
  return redisUrl ? createRedisPubSub(redisUrl) : Promise.resolve(createInProcessPubSub());
}
