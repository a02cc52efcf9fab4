import type { StreamBuffer } from './stream-buffer.js';
import type { Topic, TopicName, TopicPayloads } from './topics.js';

export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /**
   * Runs after the broker connection was lost and came back and the subscription is active
   * again. Messages published meanwhile are lost (at-most-once), so a subscriber that must not
   * miss anything re-reads the database here. Never called by the in-process pub/sub.
   */
  onResume?: () => void;
}

/**
 * The one small pub/sub interface the app uses. Delivery is at-most-once (Redis pub/sub is), so
 * the database stays the source of truth: subscribers rebuild from it on (re)connect.
 */
export interface PubSub {
  /** Never rejects: a broker that is down drops the message (logged), the database stays true. */
  publish<Name extends TopicName>(topic: Topic<Name>, payload: TopicPayloads[Name]): Promise<void>;
  /**
   * Resolves once the subscription is active, so nothing published afterwards is missed (while
   * the broker is down it resolves at once and the subscription starts when it is back, followed
   * by `onResume`). The returned Unsubscribe never rejects.
   */
  subscribe<Name extends TopicName>(
    topic: Topic<Name>,
    onMessage: (payload: TopicPayloads[Name]) => void,
    options?: SubscribeOptions,
  ): Promise<Unsubscribe>;
  /** Parts of the steps being streamed, shared by every replica. */
  readonly streamBuffer: StreamBuffer;
  /** Throws when the broker is unreachable (readiness probe); fails fast, never waits long. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
