/**
 * Wire shapes of pub/sub payloads. They mirror the GraphQL event types but stay plain JSON,
 * because they travel through Redis; the GraphQL layer turns them into its object types.
 */
import type { MessagePart } from '../chats/parts.js';
import type { ChatPlan, PendingQuestion } from '../chats/plan-mode.js';

export type ChatStatusName = 'PENDING' | 'RUNNING' | 'WAITING' | 'PAUSED' | 'ERROR';
export type MessageRoleName = 'SYSTEM' | 'USER' | 'ASSISTANT' | 'TOOL';

export interface UsagePayload {
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicros: number;
}

export interface MessagePayload {
  id: string;
  chatId: string;
  role: MessageRoleName;
  parts: MessagePart[];
  createdById: string | null;
  modelConfigId: string | null;
  usage: UsagePayload | null;
  createdAt: string;
}

export interface QueuedMessagePayload {
  id: string;
  text: string;
  /** FileParts (issue #10). */
  files: unknown[];
  createdAt: string;
}

export type ChatEventPayload =
  | {
      __typename: 'MessagePartEvent';
      chatId: string;
      messageId: string | null;
      role: MessageRoleName;
      part: MessagePart;
      /** Position within its message's stream; subscribers drop a (messageId, seq) seen twice. */
      seq: number;
    }
  | { __typename: 'MessageEvent'; chatId: string; message: MessagePayload }
  | { __typename: 'StatusEvent'; chatId: string; status: ChatStatusName; lastError: string | null }
  | { __typename: 'QueueEvent'; chatId: string; queuedMessages: QueuedMessagePayload[] }
  | { __typename: 'RetryEvent'; chatId: string; attempt: number; delayMs: number; error: string }
  | { __typename: 'TitleEvent'; chatId: string; title: string }
  | { __typename: 'ErrorEvent'; chatId: string; message: string }
  | { __typename: 'QuestionEvent'; chatId: string; pendingQuestion: PendingQuestion }
  | { __typename: 'PlanEvent'; chatId: string; plan: ChatPlan };

export type ChatListEventKindName = 'CREATED' | 'UPDATED' | 'STATUS' | 'DELETED';

export interface ChatListEventPayload {
  kind: ChatListEventKindName;
  chatId: string;
}

export type ChatControlSignal = {
  type: 'interrupt';
  reason: 'user' | 'edit' | 'promote' | 'message';
};
