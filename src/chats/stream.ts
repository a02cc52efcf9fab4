import type { ChatMessage } from '../generated/prisma/client.js';
import type { PrismaClient } from '../db/client.js';
import {
  topics,
  type ChatEventPayload,
  type ChatStatusName,
  type PubSub,
} from '../pubsub/index.js';
import type { PartEvent } from '../pubsub/stream-buffer.js';
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
 */
export type StreamedChatEvent =
  | Exclude<ChatEventPayload, { __typename: 'MessageEvent' }>
  | { __typename: 'MessageEvent'; chatId: string; message: ChatMessage };

/** Queued when pub/sub resumed after an outage: re-read messages, status and streamed parts. */
const RESYNC = Symbol('resync');

/** A subscriber this far behind is cut off with an ErrorEvent; it resumes with afterMessageId. */
export const MAX_PENDING_LIVE_EVENTS = 50_000;

export interface StreamChatEventsOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  chatId: string;
  afterMessageId: bigint | null;
  /** Called for each ASSISTANT message delivered (B26: a subscription that received it). */
  onAssistantMessage?: (message: ChatMessage) => void;
  /** Ends the stream (the client unsubscribed or disconnected). */
  signal: AbortSignal;
}

export async function* streamChatEvents(
  options: StreamChatEventsOptions,
): AsyncGenerator<StreamedChatEvent> {
  const { prisma, pubsub, chatId, signal } = options;
  const live: (ChatEventPayload | typeof RESYNC)[] = [];
  /** Status events received before the snapshot was complete: they are checked against it. */
  const earlyStatusEvents = new WeakSet<ChatEventPayload>();
  let snapshotRead = false;
  let wake: (() => void) | null = null;
  let overflowed = false;
  const unsubscribe = await pubsub.subscribe(
    topics.chatEvents(chatId),
    (event) => {
      if (live.length >= MAX_PENDING_LIVE_EVENTS) overflowed = true;
      else live.push(event);
      if (!snapshotRead && event.__typename === 'StatusEvent') earlyStatusEvents.add(event);
      wake?.();
    },
    {
      // The broker blinked: whatever was published meanwhile is lost, so re-read the database.
      onResume: () => {
        live.push(RESYNC);
        wake?.();
      },
    },
  );

  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);

  let lastMessageId = options.afterMessageId ?? 0n;
  let lastStatus: { status: ChatStatusName; lastError: string | null };
  const sentSeq = new Map<string, number>();

  const newMessages = async () => {
    const rows = await prisma.chatMessage.findMany({
      where: { chatId, deleted: false, id: { gt: lastMessageId } },
      orderBy: { id: 'asc' },
    });
    return rows.map(messageEvent);
  };
  const messageEvent = (message: ChatMessage): StreamedChatEvent => {
    lastMessageId = message.id;
    if (message.role === 'ASSISTANT') options.onAssistantMessage?.(message);
    return { __typename: 'MessageEvent', chatId, message };
  };
  const freshPart = (event: PartEvent) => {
    if (event.messageId !== null && BigInt(event.messageId) <= lastMessageId) return false;
    const key = event.messageId ?? '';
    if ((sentSeq.get(key) ?? -1) >= event.seq) return false;
    sentSeq.set(key, event.seq);
    return true;
  };

  try {
    const chat = await prisma.chat.findUnique({ where: { id: chatId } });
    if (!chat) return;
    lastStatus = { status: chat.status, lastError: chat.lastError };
    yield { __typename: 'StatusEvent', chatId, ...lastStatus };
    yield* await newMessages();
    for (const part of await pubsub.streamBuffer.read(chatId)) {
      if (freshPart(part)) yield part;
    }
    snapshotRead = true;

    while (!signal.aborted) {
      if (overflowed) {
        yield {
          __typename: 'ErrorEvent',
          chatId,
          message: 'Subscriber fell behind; resubscribe with afterMessageId',
        };
        return;
      }
      const event = live.shift();
      if (!event) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      if (event === RESYNC) {
        yield* await newMessages();
        const current = await prisma.chat.findUnique({
          where: { id: chatId },
          select: { status: true, lastError: true },
        });
        if (
          current &&
          (lastStatus.status !== current.status || lastStatus.lastError !== current.lastError)
        ) {
          lastStatus = { status: current.status, lastError: current.lastError };
          yield { __typename: 'StatusEvent', chatId, ...lastStatus };
        }
        for (const part of await pubsub.streamBuffer.read(chatId)) {
          if (freshPart(part)) yield part;
        }
        continue;
      }
      switch (event.__typename) {
        case 'MessageEvent': {
          const message = fromMessagePayload(event.message);
          if (message.id > lastMessageId) yield messageEvent(message);
          break;
        }
        case 'MessagePartEvent':
          if (freshPart(event)) yield event;
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
          if (lastStatus.status === current.status && lastStatus.lastError === current.lastError) {
            break;
          }
          lastStatus = { status: current.status, lastError: current.lastError };
          yield { __typename: 'StatusEvent', chatId, ...lastStatus };
          break;
        }
        default:
          yield event;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await unsubscribe();
  }
}

/**
 * Wraps a generator so that return() (a client unsubscribing) ends it even while it waits for
 * the next live event: graphql-js calls return() on the iterator, which a suspended generator
 * would only see after its pending await settles.
 */
export function cancellableIterator<T>(
  make: (signal: AbortSignal) => AsyncGenerator<T>,
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const generator = make(controller.signal);
  return {
    next: () => generator.next(),
    return: (value?: unknown) => {
      controller.abort();
      return generator.return(value as T);
    },
    throw: (error?: unknown) => {
      controller.abort();
      return generator.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
