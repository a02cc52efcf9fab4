import { describe, expect, it } from 'vitest';
import { streamChatEvents } from '../../../src/chats/stream.js';
import type { PrismaClient } from '../../../src/db/client.js';
import { createInProcessPubSub } from '../../../src/pubsub/in-process.js';
import type { ChatEventPayload, PubSub, SubscribeOptions } from '../../../src/pubsub/index.js';
import {
  MAX_PENDING_LIVE_EVENTS,
  SubscriberFellBehindError,
  subscribeIterator,
} from '../../../src/pubsub/subscribe-iterator.js';
import { topics } from '../../../src/pubsub/topics.js';

const CHAT_ID = '00000000-0000-4000-8000-000000000001';
const topic = topics.chatEvents(CHAT_ID);

const title = (text: string): ChatEventPayload => ({
  __typename: 'TitleEvent',
  chatId: CHAT_ID,
  title: text,
});

/**
 * The in-process pub/sub, counting the subscriptions that are active (subscribed, not yet
 * unsubscribed) and keeping the onResume callbacks, which only a broker outage calls otherwise.
 */
function countingPubSub() {
  const pubsub = createInProcessPubSub();
  const subscribe = pubsub.subscribe.bind(pubsub);
  const resumeCallbacks: (() => void)[] = [];
  let active = 0;
  pubsub.subscribe = async (subscribedTopic, onMessage, options?: SubscribeOptions) => {
    const unsubscribe = await subscribe(subscribedTopic, onMessage, options);
    if (options?.onResume) resumeCallbacks.push(options.onResume);
    active += 1;
    let released = false;
    return async () => {
      if (!released) active -= 1;
      released = true;
      await unsubscribe();
    };
  };
  return {
    pubsub,
    active: () => active,
    resume: () => resumeCallbacks.forEach((callback) => callback()),
  };
}

const identity = <T>(payload: T) => payload;

describe('subscribeIterator (issue #14: the one live-event queue)', () => {
  it('is subscribed when it resolves: an event published before the first next() is yielded', async () => {
    const { pubsub, active } = countingPubSub();
    const events = await subscribeIterator(pubsub, topic, { toItem: identity });
    expect(active()).toBe(1);
    await pubsub.publish(topic, title('before next'));
    await pubsub.publish(topic, title('also before'));
    expect((await events.next()).value).toEqual(title('before next'));
    expect((await events.next()).value).toEqual(title('also before'));
    await events.return();
  });

  it('return() while a next() waits: both resolve done and the subscription is released by then', async () => {
    const { pubsub, active } = countingPubSub();
    const events = await subscribeIterator(pubsub, topic, { toItem: identity });
    const waiting = events.next();
    await expect(events.return()).resolves.toEqual({ done: true, value: undefined });
    expect(active()).toBe(0);
    await expect(waiting).resolves.toMatchObject({ done: true });
    // Nothing published afterwards reaches it.
    await pubsub.publish(topic, title('too late'));
    await expect(events.next()).resolves.toMatchObject({ done: true });
  });

  it('an aborted signal ends it while a next() waits, and releases the subscription', async () => {
    const { pubsub, active } = countingPubSub();
    const controller = new AbortController();
    const events = await subscribeIterator(pubsub, topic, {
      toItem: identity,
      signal: controller.signal,
    });
    const waiting = events.next();
    controller.abort();
    await expect(waiting).resolves.toMatchObject({ done: true });
    expect(active()).toBe(0);
  });

  it('a signal aborted before it subscribed ends it at once', async () => {
    const { pubsub, active } = countingPubSub();
    const events = await subscribeIterator(pubsub, topic, {
      toItem: identity,
      signal: AbortSignal.abort(),
    });
    await expect(events.next()).resolves.toMatchObject({ done: true });
    expect(active()).toBe(0);
  });

  it('one event past maxPending: the waiting events are yielded, then SubscriberFellBehindError, and the subscription is released', async () => {
    const { pubsub, active } = countingPubSub();
    const events = await subscribeIterator(pubsub, topic, { toItem: identity, maxPending: 3 });
    for (const text of ['a', 'b', 'c']) await pubsub.publish(topic, title(text));
    expect(active()).toBe(1);
    await pubsub.publish(topic, title('one too many'));

    const read: string[] = [];
    await expect(
      (async () => {
        for await (const event of events) {
          if (event.__typename === 'TitleEvent') read.push(event.title);
        }
      })(),
    ).rejects.toBeInstanceOf(SubscriberFellBehindError);
    expect(read).toEqual(['a', 'b', 'c']);
    expect(active()).toBe(0);
  });

  it('maxPending events that are read in time never overflow', async () => {
    const { pubsub } = countingPubSub();
    const events = await subscribeIterator(pubsub, topic, { toItem: identity, maxPending: 2 });
    for (let round = 0; round < 5; round += 1) {
      await pubsub.publish(topic, title(`${round}-1`));
      await pubsub.publish(topic, title(`${round}-2`));
      expect((await events.next()).value).toEqual(title(`${round}-1`));
      expect((await events.next()).value).toEqual(title(`${round}-2`));
    }
    await events.return();
  });

  it('toItem runs as each event arrives; onResume marks the gap in order', async () => {
    const { pubsub, resume } = countingPubSub();
    const arrived: string[] = [];
    const events = await subscribeIterator(pubsub, topic, {
      toItem: (event): string => {
        const text = event.__typename === 'TitleEvent' ? event.title : event.__typename;
        arrived.push(text);
        return text;
      },
      onResume: () => 'RESUMED',
    });
    await pubsub.publish(topic, title('before the outage'));
    expect(arrived).toEqual(['before the outage']);
    resume();
    await pubsub.publish(topic, title('after it'));
    const read = [];
    for (let i = 0; i < 3; i += 1) read.push((await events.next()).value);
    expect(read).toEqual(['before the outage', 'RESUMED', 'after it']);
    await events.return();
  });

  it('rejects when the subscription cannot be made', async () => {
    const pubsub = createInProcessPubSub();
    pubsub.subscribe = () => Promise.reject(new Error('broker refused'));
    await expect(subscribeIterator(pubsub, topic, { toItem: identity })).rejects.toThrow(
      'broker refused',
    );
  });
});

/** A Prisma double for streamChatEvents: one IDLE chat, no messages; any other call throws. */
function chatWithoutMessages(): PrismaClient {
  const chat = { id: CHAT_ID, status: 'IDLE', lastError: null };
  const unexpected = (what: string) => () => {
    throw new Error(`unexpected Prisma call: ${what}`);
  };
  return new Proxy(
    {
      chat: { findUnique: async () => chat },
      chatMessage: { findMany: async () => [] },
    },
    {
      get: (target, key: string) =>
        key in target ? target[key as keyof typeof target] : unexpected(key),
    },
  ) as unknown as PrismaClient;
}

describe('streamChatEvents on subscribeIterator', () => {
  const stream = (pubsub: PubSub) =>
    streamChatEvents({
      prisma: chatWithoutMessages(),
      pubsub,
      chatId: CHAT_ID,
      afterMessageId: null,
    });

  it('return() while it waits for a live event ends it and releases the subscription', async () => {
    const { pubsub, active } = countingPubSub();
    const events = stream(pubsub);
    await expect(events.next()).resolves.toMatchObject({
      value: { __typename: 'StatusEvent', status: 'IDLE' },
    });
    const waiting = events.next();
    await pubsub.publish(topic, title('live'));
    await expect(waiting).resolves.toMatchObject({ value: title('live') });
    expect(active()).toBe(1);

    const waitingAgain = events.next();
    await expect(events.return()).resolves.toMatchObject({ done: true });
    expect(active()).toBe(0);
    await expect(waitingAgain).resolves.toMatchObject({ done: true });
  });

  it('a subscriber that falls behind gets the events that waited, then an ErrorEvent, then the end', async () => {
    const { pubsub, active } = countingPubSub();
    const events = stream(pubsub);
    await events.next(); // the snapshot's StatusEvent; live events now wait unread
    for (let i = 0; i <= MAX_PENDING_LIVE_EVENTS; i += 1) {
      await pubsub.publish(topic, title(String(i)));
    }

    let titles = 0;
    let last: unknown;
    for await (const event of events) {
      if (event.__typename === 'TitleEvent') titles += 1;
      last = event;
    }
    expect(titles).toBe(MAX_PENDING_LIVE_EVENTS);
    expect(active()).toBe(0);
    expect(last).toEqual({
      __typename: 'ErrorEvent',
      chatId: CHAT_ID,
      message: 'Subscriber fell behind; resubscribe with afterMessageId',
    });
  });
});
