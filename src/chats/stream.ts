import { Repeater } from 'graphql-yoga';

import type { ChatMessage } from '../generated/prisma/client.js';
import type { PrismaClient } from '../db/client.js';
import {
  topics,
  type ChatEventPayload,
  type ChatStatusName,
  type PubSub,
} from '../pubsub/index.js';
import type { PartEvent } from '../pubsub/stream-buffer.js';
import { SubscriberFellBehindError, subscribeIterator } from '../pubsub/subscribe-iterator.js';
import { fromMessagePayload } from './events.js';

/**
 * chatEvents (B13-B15): a snapshot from the database, then live events from pub/sub, with no gap
 * and no duplicate. The live subscription opens BEFORE the snapshot is read; events that arrive
 * meanwhile wait in a queue and are deduplicated against the snapshot:
 * - messages: the snapshot reads every message after afterMessageId; a live MessageEvent is then
 *   delivered from its payload (no read per subscriber), dropped when its id is not past the
 *   last one sent. Pub/sub keeps a channel's order and every event published after the
 *   subscription opened reaches the queue, so nothing between the snapshot and the live events is
 *   missed; when the broker blinked (events may be lost), the resync re-reads the database;
 * - parts: (messageId, seq) pairs already sent are dropped, as are parts of persisted messages;
 * - status: a StatusEvent that arrived while the snapshot was read makes it read the current
 *   status (the event may predate the snapshot); one that arrived after the snapshot is newer
 *   than it (pub/sub keeps a channel's order) and is used as it is, without a read per
 *   subscriber. An unchanged status is not repeated.
 * A subscriber that falls more than MAX_PENDING_LIVE_EVENTS behind gets an ErrorEvent after the
 * events that waited, and resumes with afterMessageId.
 */
export type StreamedChatEvent =
  | Exclude<ChatEventPayload, { __typename: 'MessageEvent' }>
  | { __typename: 'MessageEvent'; chatId: string; message: ChatMessage };

/** Yielded where pub/sub resumed after an outage: re-read messages, status and streamed parts. */
const RESYNC = Symbol('resync');
type LiveEvent = ChatEventPayload | typeof RESYNC;

export interface StreamChatEventsOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  chatId: string;
  afterMessageId: bigint | null;
  /** Called for each ASSISTANT message delivered (B26: a subscription that received it). */
  onAssistantMessage?: (message: ChatMessage) => void;
}

/**
 * The stream as a Repeater: return() (graphql-js calls it when the client unsubscribes or
 * disconnects) ends it at once, even while it waits for a live event, and resolves once the
 * subscription is released.
 */
export function streamChatEvents(options: StreamChatEventsOptions): Repeater<StreamedChatEvent> {
  const { prisma, pubsub, chatId } = options;
  return new Repeater<StreamedChatEvent>(async (push, stop) => {
    /** Status events received before the snapshot was complete: they are checked against it. */
    const earlyStatusEvents = new WeakSet<ChatEventPayload>();
    let snapshotRead = false;
    const live = await subscribeIterator(pubsub, topics.chatEvents(chatId), {
      toItem: (event): LiveEvent => {
        if (!snapshotRead && event.__typename === 'StatusEvent') earlyStatusEvents.add(event);
        return event;
      },
      // The broker blinked: whatever was published meanwhile is lost, so re-read the database.
      onResume: (): LiveEvent => RESYNC,
    });
    // Ending the live events ends the loop below, also while it waits for one.
    void stop.then(() => live.return());

    let lastMessageId = options.afterMessageId ?? 0n;
    let lastStatus: { status: ChatStatusName; lastError: string | null };
    const sentSeq = new Map<string, number>();

    const messageEvent = (message: ChatMessage): StreamedChatEvent => {
      lastMessageId = message.id;
      if (message.role === 'ASSISTANT') options.onAssistantMessage?.(message);
      return { __typename: 'MessageEvent', chatId, message };
    };
    const pushNewMessages = async () => {
      const rows = await prisma.chatMessage.findMany({
        where: { chatId, deleted: false, id: { gt: lastMessageId } },
        orderBy: { id: 'asc' },
      });
      for (const row of rows) await push(messageEvent(row));
    };
    const freshPart = (event: PartEvent) => {
      if (event.messageId !== null && BigInt(event.messageId) <= lastMessageId) return false;
      const key = event.messageId ?? '';
      if ((sentSeq.get(key) ?? -1) >= event.seq) return false;
      sentSeq.set(key, event.seq);
      return true;
    };
    const pushBufferedParts = async () => {
      for (const part of await pubsub.streamBuffer.read(chatId)) {
        if (freshPart(part)) await push(part);
      }
    };

    try {
      const chat = await prisma.chat.findUnique({ where: { id: chatId } });
      if (!chat) return;
      lastStatus = { status: chat.status, lastError: chat.lastError };
      await push({ __typename: 'StatusEvent', chatId, ...lastStatus });
      await pushNewMessages();
      await pushBufferedParts();
      snapshotRead = true;

      for await (const event of live) {
        if (event === RESYNC) {
          await pushNewMessages();
          const current = await prisma.chat.findUnique({
            where: { id: chatId },
            select: { status: true, lastError: true },
          });
          if (
            current &&
            (lastStatus.status !== current.status || lastStatus.lastError !== current.lastError)
          ) {
            lastStatus = { status: current.status, lastError: current.lastError };
            await push({ __typename: 'StatusEvent', chatId, ...lastStatus });
          }
          await pushBufferedParts();
          continue;
        }
        switch (event.__typename) {
          case 'MessageEvent': {
            const message = fromMessagePayload(event.message);
            if (message.id > lastMessageId) await push(messageEvent(message));
            break;
          }
          case 'MessagePartEvent':
            if (freshPart(event)) await push(event);
            break;
          case 'StatusEvent': {
            // An early event may predate the snapshot (it waited in the queue): the database says
            // what the status is now. A later one is the status now. Unchanged is not sent again.
            const current = earlyStatusEvents.has(event)
              ? await prisma.chat.findUnique({
                  where: { id: chatId },
                  select: { status: true, lastError: true },
                })
              : event;
            if (!current) break;
            if (
              lastStatus.status === current.status &&
              lastStatus.lastError === current.lastError
            ) {
              break;
            }
            lastStatus = { status: current.status, lastError: current.lastError };
            await push({ __typename: 'StatusEvent', chatId, ...lastStatus });
            break;
          }
          default:
            await push(event);
        }
      }
    } catch (error) {
      if (!(error instanceof SubscriberFellBehindError)) throw error;
      await push({
        __typename: 'ErrorEvent',
        chatId,
        message: 'Subscriber fell behind; resubscribe with afterMessageId',
      });
    } finally {
      await live.return();
      // A Repeater ends when stopped, not when its executor returns.
      stop();
    }
  });
}
