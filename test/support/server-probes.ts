import type { PubSub, Unsubscribe } from '../../src/pubsub/index.js';
import type { Topic, TopicName } from '../../src/pubsub/topics.js';

/**
 * Acknowledgements from inside an in-process test server, so a test waits for what the server
 * did rather than polling for its effect. Each probe wraps a method of the app's own objects (the
 * ones every resolver and the daemon call through), lets the call run unchanged, and reports it.
 */

export interface SubscriptionProbe {
  /**
   * Resolves once `count` subscriptions on `topic` are active on the server (subscribe() resolved,
   * unsubscribe() not called): anything published afterwards reaches them. Subscriptions made
   * before the probe was installed are not counted.
   */
  active<Name extends TopicName>(topic: Topic<Name>, count?: number): Promise<void>;
}

/** Counts the active subscriptions per channel of `pubsub` from now on. */
export function probeSubscriptions(pubsub: PubSub): SubscriptionProbe {
  const activeByChannel = new Map<string, number>();
  const waiters = new Set<{ channel: string; count: number; resolve: () => void }>();
  const changed = (channel: string, delta: number) => {
    const now = (activeByChannel.get(channel) ?? 0) + delta;
    activeByChannel.set(channel, now);
    for (const waiter of waiters) {
      if (waiter.channel === channel && now >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };
  const subscribe = pubsub.subscribe.bind(pubsub);
  pubsub.subscribe = async (topic, onMessage, options) => {
    const unsubscribe = await subscribe(topic, onMessage, options);
    changed(topic.channel, +1);
    let counted = true;
    const counting: Unsubscribe = async () => {
      if (counted) changed(topic.channel, -1);
      counted = false;
      await unsubscribe();
    };
    return counting;
  };
  return {
    active(topic, count = 1) {
      if ((activeByChannel.get(topic.channel) ?? 0) >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ channel: topic.channel, count, resolve }));
    },
  };
}

type AsyncMethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/**
 * Resolves with the result of the next call of `target[method]` once that call has finished (its
 * writes are done); rejects if it rejects. The method is restored after that one call.
 */
export function nextCallOf<T extends object, K extends AsyncMethodKeys<T>>(
  target: T,
  method: K,
): Promise<Awaited<ReturnType<Extract<T[K], (...args: never[]) => Promise<unknown>>>>> {
  type Method = (...args: unknown[]) => Promise<unknown>;
  const original = target[method] as unknown as Method;
  return new Promise((resolve, reject) => {
    const once: Method = (...args) => {
      (target as Record<K, unknown>)[method] = original;
      const result = original.apply(target, args);
      result.then(resolve as (value: unknown) => void, reject);
      return result;
    };
    (target as Record<K, unknown>)[method] = once;
  });
}
