import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisStreamBuffer,
  MAX_BUFFERED_PARTS,
  type PartEvent,
  type StreamBuffer,
} from '../../../src/pubsub/stream-buffer.js';
import { backend, TEST_REDIS_URL } from '../../support/backend.js';

/**
 * The Redis stream buffer sends two commands per part (issue #9) instead of a MULTI of four: the
 * TTL is set with a message's first part, the list trimmed only past its cap. What that must
 * keep: every part buffered and published in order, the cap, and a TTL on the buffer.
 */
describe.runIf(backend === 'services')('Redis stream buffer (issue #9)', () => {
  let redis: Redis;
  let subscriber: Redis;
  let buffer: StreamBuffer;
  const channel = (chatId: string) => `agentgraph:test:${chatId}:events`;
  const key = (chatId: string) => `agentgraph:chat:${chatId}:parts`;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    subscriber = new Redis(TEST_REDIS_URL);
    buffer = createRedisStreamBuffer(redis, channel);
  });

  afterAll(async () => {
    await Promise.all([redis.quit(), subscriber.quit()]);
  });

  const part = (chatId: string, seq: number): PartEvent => ({
    __typename: 'MessagePartEvent',
    chatId,
    messageId: '1',
    role: 'ASSISTANT',
    part: { type: 'TEXT', text: `t${seq} ` },
    seq,
  });

  it('buffers and publishes every part in order, with a TTL from the first part', async () => {
    const chatId = randomUUID();
    const received: number[] = [];
    await subscriber.subscribe(channel(chatId));
    const allReceived = new Promise<void>((resolve) => {
      subscriber.on('message', (_channel: string, message: string) => {
        received.push((JSON.parse(message) as PartEvent).seq);
        if (received.length === 50) resolve();
      });
    });
    // Published concurrently, as many chats' parts are: auto-pipelining batches them.
    await Promise.all(
      Array.from({ length: 50 }, (_, seq) => buffer.publish(chatId, part(chatId, seq))),
    );
    await allReceived;
    expect(received).toEqual(Array.from({ length: 50 }, (_, seq) => seq));
    expect((await buffer.read(chatId)).map((event) => event.seq)).toEqual(received);
    expect(await redis.ttl(key(chatId))).toBeGreaterThan(0);
    await buffer.clear(chatId);
    expect(await redis.exists(key(chatId))).toBe(0);
    await subscriber.unsubscribe(channel(chatId));
  });

  it('keeps at most MAX_BUFFERED_PARTS parts, the newest', async () => {
    const chatId = randomUUID();
    const total = MAX_BUFFERED_PARTS + 5;
    // A full buffer in one command, then the parts that overflow it through the buffer.
    const full = Array.from({ length: MAX_BUFFERED_PARTS }, (_, seq) =>
      JSON.stringify(part(chatId, seq)),
    );
    await redis.rpush(key(chatId), ...full);
    for (let seq = MAX_BUFFERED_PARTS; seq < total; seq++) {
      await buffer.publish(chatId, part(chatId, seq));
    }
    const parts = await buffer.read(chatId);
    expect(parts).toHaveLength(MAX_BUFFERED_PARTS);
    expect(parts[0]!.seq).toBe(total - MAX_BUFFERED_PARTS);
    expect(parts.at(-1)!.seq).toBe(total - 1);
    await buffer.clear(chatId);
  });
});
