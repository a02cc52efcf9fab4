import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';
import type { PubSub, SubscribeOptions } from './pubsub.js';
import { createRedisStreamBuffer, type StreamBuffer } from './stream-buffer.js';
import { topics } from './topics.js';

/**
 * Redis-backed pub/sub over two ioredis connections (a publisher, which also holds the stream
 * buffer, and a subscriber), written so that Redis can blink (issue #8, row 5):
 *
 * - every client has an `error` listener: a lost connection is one warning, not an unhandled
 *   'error' event, and its recovery one info line;
 * - neither client queues commands while disconnected (`enableOfflineQueue: false`): a publish
 *   during an outage fails at once instead of holding a turn through reconnect attempts, and is
 *   then dropped with a warning (once per outage). Delivery is at-most-once anyway; the database
 *   stays the truth and running turns go on;
 * - the channels are tracked here, not in ioredis: a subscribe during an outage is recorded and
 *   sent when Redis is back, an unsubscribe never rejects, and after a reconnect every channel is
 *   subscribed again and its subscribers' `onResume` runs, so they re-read what they missed;
 * - `ping` (the /readyz probe) fails at once while the publisher is not connected.
 */

/** How long the first connection may take before the process gives up with a clear error. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A PING slower than this makes /readyz answer 503 rather than hang the probe. */
const PING_TIMEOUT_MS = 1_000;
/** Reconnect backoff: 100 ms more per attempt, at most this, forever (Redis may come back). */
const MAX_RECONNECT_DELAY_MS = 2_000;
const RECONNECT_STEP_MS = 100;

type Handler = (payload: unknown) => void;

interface Channel {
  subscriptions: Set<Subscription>;
  /** Settles once Redis confirmed the SUBSCRIBE (or it failed, or Redis was down). */
  active: Promise<void>;
}

interface Subscription {
  onMessage: Handler;
  onResume?: () => void;
}

/** The URL without its password, for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisPubSubHooks {
  /** Called for every write dropped because Redis failed (`what`: e.g. "publish chatEvents"). */
  onDroppedWrite?(what: string): void;
}

export async function createRedisPubSub(
  url: string,
  logger?: Logger,
  hooks: RedisPubSubHooks = {},
): Promise<PubSub> {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands never wait for a reconnect (see above), so retrying them has nothing to wait for.
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, MAX_RECONNECT_DELAY_MS),
    autoResubscribe: false,
  };
  // Fewer socket writes on the hot path: commands issued in one tick share one write. MULTI
  // blocks (the stream buffer) are not pipelined by ioredis and keep their atomicity.
  const publisher = new Redis(url, { ...options, enableAutoPipelining: true });
  const subscriber = new Redis(url, options);
  const where = describeRedisUrl(url);
  const log = logger?.child({ component: 'pubsub', redis: where });

  /** One warning per outage per connection, one info line when it is back. */
  const health = { publisher: true, subscriber: true, publishWarned: false, started: false };
  let lastError: Error | undefined;
  const watch = (client: Redis, name: 'publisher' | 'subscriber') => {
    client.on('error', (error: Error) => {
      lastError = error;
      // Before start-up succeeded the failure is reported once, by the start-up error.
      if (!health.started || !health[name]) return;
      health[name] = false;
      log?.warn('Redis connection lost; retrying', { connection: name, error: error.message });
    });
    client.on('end', () => {
      health[name] = false;
    });
    client.on('ready', () => {
      // (Also after a blink too short to raise an error: the next outage warns again.)
      if (name === 'publisher') health.publishWarned = false;
      if (health[name]) return;
      health[name] = true;
      log?.info('Redis connection restored', { connection: name });
    });
  };
  watch(publisher, 'publisher');
  watch(subscriber, 'subscriber');

  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    // connect() itself only says "Connection is closed."; the socket error says why.
    const cause = lastError ?? error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new RedisUnavailableError(`Cannot connect to Redis at REDIS_URL=${where}: ${reason}`, {
      cause: error,
    });
  }
  health.started = true;

  const channels = new Map<string, Channel>();
  subscriber.on('message', (channel: string, message: string) => {
    const subscriptions = channels.get(channel)?.subscriptions;
    if (!subscriptions) return;
    let payload: unknown;
    try {
      payload = JSON.parse(message);
    } catch {
      log?.warn('dropped a pub/sub message that is not JSON', { channel });
      return;
    }
    // One parse per message for every subscriber of the channel on this replica. The common
    // case, one subscriber, skips the copy that guards the iteration against unsubscribes.
    if (subscriptions.size === 1) {
      for (const subscription of subscriptions) subscription.onMessage(payload);
      return;
    }
    for (const subscription of [...subscriptions]) subscription.onMessage(payload);
  });

  // After a reconnect the connection has no subscriptions: send them all again, then tell the
  // subscribers, whose messages published meanwhile are lost (they re-read the database).
  // (Registered after the first connect, so every 'ready' here is a reconnect.)
  subscriber.on('ready', () => {
    const names = [...channels.keys()];
    if (names.length === 0) return;
    subscriber.subscribe(...names).then(
      () => {
        for (const name of names) {
          for (const subscription of [...(channels.get(name)?.subscriptions ?? [])]) {
            subscription.onResume?.();
          }
        }
      },
      (error: unknown) => log?.warn('resubscribing after a reconnect failed', { error }),
    );
  });

  /** Runs a Redis write that may be dropped: a failure is a warning, once per outage. */
  const soft = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      hooks.onDroppedWrite?.(what);
      if (health.publishWarned) return;
      health.publishWarned = true;
      log?.warn('Redis unavailable: dropping pub/sub writes until it is back', {
        what,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const buffer = createRedisStreamBuffer(publisher, (chatId) => topics.chatEvents(chatId).channel);
  const streamBuffer: StreamBuffer = {
    publish: (chatId, event) => soft('stream buffer publish', () => buffer.publish(chatId, event)),
    clear: (chatId) => soft('stream buffer clear', () => buffer.clear(chatId)),
    // A subscriber's snapshot without the streaming step's parts is still correct: the step's
    // message arrives from the database once it is persisted.
    read: (chatId) => buffer.read(chatId).catch(() => []),
  };

  return {
    streamBuffer,
    publish: (topic, payload) =>
      soft(`publish ${topic.name}`, () =>
        publisher.publish(topic.channel, JSON.stringify(payload)),
      ),
    async subscribe(topic, onMessage, subscribeOptions: SubscribeOptions = {}) {
      const subscription: Subscription = {
        onMessage: onMessage as Handler,
        onResume: subscribeOptions.onResume,
      };
      let channel = channels.get(topic.channel);
      if (!channel) {
        channel = { subscriptions: new Set(), active: Promise.resolve() };
        channels.set(topic.channel, channel);
        // While Redis is down the channel is only recorded; the reconnect subscribes it.
        if (subscriber.status === 'ready') {
          channel.active = subscriber.subscribe(topic.channel).then(
            () => undefined,
            (error: unknown) =>
              log?.warn('subscribe failed; it is retried when Redis reconnects', {
                channel: topic.channel,
                error: error instanceof Error ? error.message : String(error),
              }),
          );
        }
      }
      channel.subscriptions.add(subscription);
      // A second subscriber of a channel waits for the first one's SUBSCRIBE too.
      await channel.active;
      const joined = channel;
      let active = true;
      return async () => {
        if (!active) return;
        active = false;
        joined.subscriptions.delete(subscription);
        if (joined.subscriptions.size > 0 || channels.get(topic.channel) !== joined) return;
        channels.delete(topic.channel);
        // Nothing to tell a disconnected Redis: the reconnect subscribes only live channels.
        if (subscriber.status === 'ready') {
          await subscriber.unsubscribe(topic.channel).catch(() => undefined);
        }
      };
    },
    async ping() {
      if (publisher.status !== 'ready') {
        throw new RedisUnavailableError(`Redis is ${publisher.status}`);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RedisUnavailableError('Redis PING timed out')),
          PING_TIMEOUT_MS,
        );
      });
      try {
        await Promise.race([publisher.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      channels.clear();
      // QUIT needs a connection; a Redis that is gone is simply disconnected.
      await Promise.all(
        [publisher, subscriber].map((client) =>
          client.status === 'ready'
            ? client.quit().then(
                () => undefined,
                () => client.disconnect(),
              )
            : client.disconnect(),
        ),
      );
    },
  };
}
