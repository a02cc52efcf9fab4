import type { Redis } from 'ioredis';
import type { ChatEventPayload } from './payloads.js';

export type PartEvent = Extract<ChatEventPayload, { __typename: 'MessagePartEvent' }>;

/**
 * The parts streamed so far for the step a chat is running, so a subscriber that joins mid-step
 * (on any replica) gets them in its snapshot (B13). `publish` buffers a part and publishes it on
 * the chat's topic in one round trip (pipelined commands run in order on one connection, so no
 * subscriber can see the publish before the part is buffered). The worker clears the buffer AFTER publishing the
 * persisted message; subscribers subscribe first and read the buffer second, then drop
 * duplicates by (messageId, seq).
 */
export interface StreamBuffer {
  publish(chatId: string, event: PartEvent): Promise<void>;
  read(chatId: string): Promise<PartEvent[]>;
  clear(chatId: string): Promise<void>;
}

/** Parts kept per step; past this the oldest are dropped (a runaway step must not eat memory). */
export const MAX_BUFFERED_PARTS = 10_000;
/** A crashed worker never clears its buffer; Redis forgets it after this. */
const REDIS_BUFFER_TTL_SECONDS = 3_600;
/** A step streaming for longer than the TTL keeps its buffer: the TTL is renewed this often. */
const TTL_REFRESH_PARTS = 1_000;

export function createMemoryStreamBuffer(
  publish: (chatId: string, event: PartEvent) => Promise<void>,
): StreamBuffer {
  const buffers = new Map<string, PartEvent[]>();
  return {
    async publish(chatId, event) {
      let parts = buffers.get(chatId);
      if (!parts) buffers.set(chatId, (parts = []));
      parts.push(event);
      if (parts.length > MAX_BUFFERED_PARTS) parts.shift();
      await publish(chatId, event);
    },
    async read(chatId) {
      return structuredClone(buffers.get(chatId) ?? []);
    },
    async clear(chatId) {
      buffers.delete(chatId);
    },
  };
}

/** `channel` is the chat's event topic; the payload is JSON, as RedisPubSub itself publishes. */
export function createRedisStreamBuffer(
  redis: Redis,
  channel: (chatId: string) => string,
): StreamBuffer {
  const key = (chatId: string) => `agentgraph:chat:${chatId}:parts`;
  return {
    async publish(chatId, event) {
      const json = JSON.stringify(event);
      const list = key(chatId);
      // Plain commands, not a MULTI: ioredis auto-pipelining (src/pubsub/redis.ts) sends them,
      // and those of every other chat publishing in the same tick, in one socket write, where a
      // MULTI block is always a write of its own. Redis runs one connection's commands in order,
      // so the PUBLISH still comes after the RPUSH: a subscriber that sees the part and then
      // reads the buffer finds it there (B13). The TTL is set with a message's first part
      // (the buffer is cleared after every step) and refreshed every TTL_REFRESH_PARTS parts;
      // the list is trimmed only once it is past its cap: two commands per part, not four.
      // (Issued in this order: an EXPIRE before the RPUSH that creates the list does nothing.)
      const pushed = redis.rpush(list, json);
      const published = redis.publish(channel(chatId), json);
      const expired = event.seq === 0 ? redis.expire(list, REDIS_BUFFER_TTL_SECONDS) : 0;
      const [length] = await Promise.all([pushed, published, expired]);
      if (length > MAX_BUFFERED_PARTS) await redis.ltrim(list, -MAX_BUFFERED_PARTS, -1);
      if (length % TTL_REFRESH_PARTS === 0) await redis.expire(list, REDIS_BUFFER_TTL_SECONDS);
    },
    async read(chatId) {
      const raw = await redis.lrange(key(chatId), 0, -1);
      return raw.map((entry) => JSON.parse(entry) as PartEvent);
    },
    async clear(chatId) {
      await redis.del(key(chatId));
    },
  };
}
