import type { Prisma } from '../../src/generated/prisma/client.js';
import { topics } from '../../src/pubsub/index.js';
import type { TestClient } from './client.js';
import type { TestServer } from './server.js';

/**
 * Shared fixtures for the chat API tests: a default model config, chats, and direct database
 * writes standing in for the daemon (these tests run with DAEMON_ENABLED=false).
 */

export type ChatStatus = 'PENDING' | 'RUNNING' | 'WAITING' | 'PAUSED' | 'ERROR';

export interface LabelData {
  key: string;
  value: string;
}

export interface ChatData {
  id: string;
  title: string;
  status: ChatStatus;
  mode: string;
  archived: boolean;
  pinOrder: number | null;
  hasUnread: boolean;
  labels: LabelData[];
  modelConfig: { id: string } | null;
  owner: { id: string };
  createdAt: string;
  updatedAt: string;
}

export const CHAT_FIELDS = `id title status mode archived pinOrder hasUnread
  labels { key value } modelConfig { id } owner { id } createdAt updatedAt`;

export const CREATE_CHAT = `mutation ($input: CreateChatInput!) {
  createChat(input: $input) { ${CHAT_FIELDS} } }`;

export interface CreateChatInput {
  text?: string;
  modelConfigId?: string | null;
  labels?: LabelData[] | null;
  mode?: 'DEFAULT' | 'PLAN';
}

export async function createChat(
  client: TestClient,
  input: CreateChatInput = {},
): Promise<ChatData> {
  const data = await client.query<{ createChat: ChatData }>(CREATE_CHAT, {
    input: { text: 'Hello agent', ...input },
  });
  return data.createChat;
}

/** Creates an OPENAI_COMPATIBLE provider (pointing nowhere) and a model config on it. */
export async function createModelConfig(
  server: TestServer,
  input: Record<string, unknown> = {},
): Promise<{ providerId: string; modelConfigId: string }> {
  const provider = await server.admin.query<{ createProvider: { id: string } }>(
    `mutation ($input: CreateProviderInput!) { createProvider(input: $input) { id } }`,
    {
      input: {
        kind: 'OPENAI_COMPATIBLE',
        displayName: 'Fake',
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKey: 'sk-test',
      },
    },
  );
  const providerId = provider.createProvider.id;
  const config = await server.admin.query<{ createModelConfig: { id: string } }>(
    `mutation ($input: CreateModelConfigInput!) { createModelConfig(input: $input) { id } }`,
    { input: { providerId, model: 'fake', contextLimit: 100_000, ...input } },
  );
  return { providerId, modelConfigId: config.createModelConfig.id };
}

export const createDefaultModel = (server: TestServer) =>
  createModelConfig(server, { isDefault: true });

/** Stands in for the daemon: moves a chat to a status directly in the database. */
export async function setChatStatus(server: TestServer, chatId: string, status: ChatStatus) {
  await server.app.deps.prisma.chat.update({ where: { id: chatId }, data: { status } });
}

/** Stands in for the daemon: persists a message (an ASSISTANT step by default). */
export async function insertMessage(
  server: TestServer,
  chatId: string,
  options: {
    role?: 'USER' | 'ASSISTANT' | 'TOOL';
    text?: string;
    tokens?: Partial<
      Pick<
        Prisma.ChatMessageUncheckedCreateInput,
        | 'inputTokens'
        | 'outputTokens'
        | 'reasoningTokens'
        | 'cacheReadTokens'
        | 'cacheWriteTokens'
        | 'costMicros'
        | 'modelConfigId'
      >
    >;
  } = {},
) {
  const message = await server.app.deps.prisma.chatMessage.create({
    data: {
      chatId,
      role: options.role ?? 'ASSISTANT',
      parts: [{ type: 'TEXT', text: options.text ?? 'Sure.' }],
      contentVersion: 1,
      ...options.tokens,
    },
  });
  return { ...message, id: message.id.toString() };
}

/** Error codes of a failed subscription, however graphql-ws delivered them. */
export function subscriptionErrorCodes(errors: unknown[]): string[] {
  const codes: string[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value && typeof value === 'object') {
      const extensions = (value as { extensions?: Record<string, unknown> }).extensions;
      if (extensions && typeof extensions['code'] === 'string') codes.push(extensions['code']);
    }
  };
  errors.forEach(visit);
  return codes;
}

export interface ChatListEventData {
  chatListEvents: { kind: string; chatId: string; chat: { id: string; title: string } | null };
}

export const CHAT_LIST_EVENTS = `subscription {
  chatListEvents { kind chatId chat { id title } } }`;

/**
 * chatListEvents sends nothing when it starts, so a test waits for the server's acknowledgement:
 * its pub/sub subscription on the user's chat-list topic is active, and every event published
 * after that reaches the stream. Use a user with no other chat-list subscription open.
 */
export function chatListSubscribed(server: TestServer, userId: string): Promise<void> {
  return server.subscriptions.active(topics.chatList(userId));
}
