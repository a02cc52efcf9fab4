import type { ResultOf } from '@graphql-typed-document-node/core';
import type { EventStream, TestClient } from './client.js';
import { ChatEventsSubscription, ChatMessagesQuery } from './operations.js';

/** Helpers over a chatEvents subscription and the persisted history, for daemon tests. */
export type ChatEventResult = ResultOf<typeof ChatEventsSubscription>;
export type ChatEvent = ChatEventResult['chatEvents'];
export type ChatEventStream = EventStream<ChatEventResult>;

export function subscribeChat(client: TestClient, chatId: string, after?: string | null) {
  return client.subscribe(ChatEventsSubscription, { chatId, after: after ?? null });
}

export const eventsOf = (stream: ChatEventStream): ChatEvent[] =>
  stream.events.map((event) => event.chatEvents);

export const isStatus = (status: string) => (event: ChatEventResult) =>
  event.chatEvents.__typename === 'StatusEvent' && event.chatEvents.status === status;

/** Waits for the n-th StatusEvent with this status (counting from the subscription start). */
export async function waitForStatusCount(stream: ChatEventStream, status: string, count: number) {
  await stream.waitFor(
    () =>
      eventsOf(stream).filter((e) => e.__typename === 'StatusEvent' && e.status === status)
        .length >= count,
  );
}

export function persistedMessages(stream: ChatEventStream) {
  return eventsOf(stream).flatMap((event) =>
    event.__typename === 'MessageEvent' ? [event.message] : [],
  );
}

export function messageText(message: { parts: readonly { type: string; text?: string }[] }) {
  return message.parts
    .filter((part) => part.type === 'TEXT')
    .map((part) => part.text ?? '')
    .join('');
}

export async function loadHistory(client: TestClient, chatId: string) {
  const data = await client.query(ChatMessagesQuery, { id: chatId });
  const chat = data.chat!;
  return {
    chat,
    messages: chat.messages.edges.map((edge) => edge.node),
    roles: chat.messages.edges.map((edge) => edge.node.role),
    transcript: chat.messages.edges.map(
      (edge) =>
        `${edge.node.role}:${messageText(edge.node as { parts: { type: string; text?: string }[] })}`,
    ),
  };
}
