import type { StreamBuffer } from './stream-buffer.js';
import type { Topic, TopicName, TopicPayloads } from './topics.js';

export type Unsubscribe = () => Promise<void>;

/**
 * The one small pub/sub interface the app uses. Delivery is at-most-once (Redis pub/sub is), so
 * the database stays the source of truth: subscribers rebuild from it on (re)connect.
 */
export interface PubSub {
  publish<Name extends TopicName>(topic: Topic<Name>, payload: TopicPayloads[Name]): Promise<void>;
  /** Resolves once the subscription is active, so nothing published afterwards is missed. */
  subscribe<Name extends TopicName>(
    topic: Topic<Name>,
    onMessage: (payload: TopicPayloads[Name]) => void,
  ): Promise<Unsubscribe>;
  /** Parts of the steps being streamed, shared by every replica. */
  readonly streamBuffer: StreamBuffer;
  /** Throws when the broker is unreachable (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
