import { FixedBuffer, Repeater } from 'graphql-yoga';

import type { PubSub, SubscribeOptions } from './pubsub.js';
import type { Topic, TopicName, TopicPayloads } from './topics.js';

/** Default of `maxPending`: a subscriber this far behind is cut off and resumes from the database. */
export const MAX_PENDING_LIVE_EVENTS = 50_000;

/** What next() throws once more than `maxPending` events waited (after yielding those that did). */
export class SubscriberFellBehindError extends Error {
  override name = 'SubscriberFellBehindError';
  constructor(readonly maxPending: number) {
    super('Subscriber fell behind; resubscribe');
  }
}

export interface SubscribeIteratorOptions<Payload, Item> {
  /**
   * Turns each payload into what next() yields. It runs as the event arrives, before the event
   * waits to be read, so it can note what the consumer had done by then.
   */
  toItem: (payload: Payload) => Item;
  /**
   * What next() yields where the broker connection was lost and came back: events published
   * meanwhile are lost, so a consumer that must not miss any re-reads the database there. Default:
   * nothing marks the gap.
   */
  onResume?: () => Item;
  /**
   * How many events may wait unread (default MAX_PENDING_LIVE_EVENTS). One more ends the
   * subscription: next() yields those that waited, then throws SubscriberFellBehindError.
   */
  maxPending?: number;
  /** Ends the iterator as return() does (pending next() calls resolve done) when it aborts. */
  signal?: AbortSignal;
}

/** The first value every iterator below yields; subscribeIterator reads it itself (see there). */
const STARTED = Symbol('started');

/**
 * The live events of one pub/sub topic as an async iterator (issue #14: the one queue the
 * subscriptions share). It resolves once the subscription is active, so every event published
 * afterwards is yielded, even one published before the first next(). return() ends it at once,
 * also while a next() waits, and releases the subscription before it resolves; graphql-js calls it
 * when a client unsubscribes.
 */
export async function subscribeIterator<Name extends TopicName, Item>(
  pubsub: PubSub,
  topic: Topic<Name>,
  options: SubscribeIteratorOptions<TopicPayloads[Name], Item>,
): Promise<Repeater<Item>> {
  const { toItem, onResume, maxPending = MAX_PENDING_LIVE_EVENTS, signal } = options;
  const unread = new FixedBuffer(maxPending);
  let subscribed!: { resolve: () => void; reject: (error: unknown) => void };
  const active = new Promise<void>((resolve, reject) => (subscribed = { resolve, reject }));

  const events: Repeater<Item | typeof STARTED> = new Repeater(async (push, stop) => {
    // A Repeater runs this on the first next(); the one below reads this value, so that the
    // subscription is open before the caller's first next() (which may come much later).
    void push(STARTED);
    const enqueue = (item: Item) => {
      if (unread.full) stop(new SubscriberFellBehindError(maxPending));
      else void push(item);
    };
    const subscribeOptions: SubscribeOptions = {};
    if (onResume) subscribeOptions.onResume = () => enqueue(onResume());
    let unsubscribe;
    try {
      unsubscribe = await pubsub.subscribe(
        topic,
        (payload) => enqueue(toItem(payload)),
        subscribeOptions,
      );
    } catch (error) {
      subscribed.reject(error);
      stop();
      return;
    }
    subscribed.resolve();

    const end = () => void events.return();
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) end();
    try {
      await stop;
    } finally {
      signal?.removeEventListener('abort', end);
      await unsubscribe();
    }
  }, unread);

  await events.next();
  await active;
  return events as Repeater<Item>;
}
