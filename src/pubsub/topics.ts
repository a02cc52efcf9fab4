import type { ChatEventPayload, ChatListEventPayload, ChatControlSignal } from './payloads.js';

/**
 * Every pub/sub topic in one typed map, so a publisher and its subscribers cannot disagree about
 * a topic's name or payload. Payloads are plain JSON (ids as strings, dates as ISO strings):
 * they cross Redis.
 */
export interface TopicPayloads {
  /** Everything a chatEvents subscriber sees for one chat (parts, messages, status, …). */
  chatEvents: ChatEventPayload;
  /** One user's chat list changes (chatListEvents). */
  chatList: ChatListEventPayload;
  /** Commands for whichever worker runs a chat (interrupt), wherever it runs. */
  chatControl: ChatControlSignal;
  /** Wakes every daemon to acquire now instead of at its next tick. */
  daemonWake: { reason: string };
  /** A token was revoked or a user lost access: every replica closes the matching WebSockets. */
  accessEnded: AccessEndedSignal;
  /** An admin changed an MCP server: every replica drops its cached list and the connection. */
  mcpServersChanged: { serverId: string };
  /** A root chat's workspace may have changed (a tool wrote or ran, a rewind, a refresh). */
  gitChanges: { reason: string };
}

/** Which sockets to close: those of a token (by its stored SHA-256) and/or of a user. */
export interface AccessEndedSignal {
  tokenHash?: string;
  userId?: string;
}

export type TopicName = keyof TopicPayloads;

export interface Topic<Name extends TopicName = TopicName> {
  name: Name;
  /** The channel on the wire. */
  channel: string;
}

export const topics = {
  chatEvents: (chatId: string): Topic<'chatEvents'> => ({
    name: 'chatEvents',
    channel: `agentgraph:chat:${chatId}:events`,
  }),
  chatList: (userId: string): Topic<'chatList'> => ({
    name: 'chatList',
    channel: `agentgraph:user:${userId}:chats`,
  }),
  chatControl: (chatId: string): Topic<'chatControl'> => ({
    name: 'chatControl',
    channel: `agentgraph:chat:${chatId}:control`,
  }),
  daemonWake: (): Topic<'daemonWake'> => ({
    name: 'daemonWake',
    channel: 'agentgraph:daemon:wake',
  }),
  accessEnded: (): Topic<'accessEnded'> => ({
    name: 'accessEnded',
    channel: 'agentgraph:access:ended',
  }),
  mcpServersChanged: (): Topic<'mcpServersChanged'> => ({
    name: 'mcpServersChanged',
    channel: 'agentgraph:mcp:servers-changed',
  }),
  gitChanges: (rootChatId: string): Topic<'gitChanges'> => ({
    name: 'gitChanges',
    channel: `agentgraph:chat:${rootChatId}:git`,
  }),
};
