import type {
  FilePart,
  MessagePart,
  ReasoningPart,
  TextPart,
  ToolCallPart,
  ToolResultPart,
} from '../../chats/parts.js';
import { readParts } from '../../chats/parts.js';
import { toMessagePayload } from '../../chats/events.js';
import { queuedFileParts } from '../../chats/transitions.js';
import { findChatForRead } from '../../chats/access.js';
import { parseBigIntId } from '../../db/ids.js';
import { builder } from '../builder.js';
import { NodeInterface, registerNodeLoader } from './node.js';
import { UsageType } from './usage.js';

export const MessageRoleEnum = builder.enumType('MessageRole', {
  values: ['SYSTEM', 'USER', 'ASSISTANT', 'TOOL'] as const,
});

export const MessagePartTypeEnum = builder.enumType('MessagePartType', {
  values: ['TEXT', 'REASONING', 'TOOL_CALL', 'TOOL_RESULT', 'FILE'] as const,
});

const PART_TYPE_NAMES: Record<MessagePart['type'], string> = {
  TEXT: 'TextPart',
  REASONING: 'ReasoningPart',
  TOOL_CALL: 'ToolCallPart',
  TOOL_RESULT: 'ToolResultPart',
  FILE: 'FilePart',
};

export const MessagePartInterface = builder.interfaceRef<MessagePart>('MessagePart').implement({
  fields: (t) => ({ type: t.expose('type', { type: MessagePartTypeEnum }) }),
  resolveType: (part) => PART_TYPE_NAMES[part.type],
});

builder.objectRef<TextPart>('TextPart').implement({
  interfaces: [MessagePartInterface],
  fields: (t) => ({ text: t.exposeString('text') }),
});

builder.objectRef<ReasoningPart>('ReasoningPart').implement({
  interfaces: [MessagePartInterface],
  fields: (t) => ({ text: t.exposeString('text') }),
});

builder.objectRef<ToolCallPart>('ToolCallPart').implement({
  interfaces: [MessagePartInterface],
  fields: (t) => ({
    toolCallId: t.exposeString('toolCallId'),
    toolName: t.exposeString('toolName'),
    args: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Arguments as parsed JSON; while streaming, argsDelta carries raw text.',
      resolve: (part) => part.args ?? null,
    }),
    argsDelta: t.string({ nullable: true, resolve: (part) => part.argsDelta ?? null }),
  }),
});

builder.objectRef<ToolResultPart>('ToolResultPart').implement({
  interfaces: [MessagePartInterface],
  fields: (t) => ({
    toolCallId: t.exposeString('toolCallId'),
    toolName: t.exposeString('toolName'),
    result: t.field({ type: 'JSON', nullable: true, resolve: (part) => part.result ?? null }),
    isError: t.exposeBoolean('isError'),
  }),
});

const FilePartType = builder.objectRef<FilePart>('FilePart').implement({
  interfaces: [MessagePartInterface],
  fields: (t) => ({
    name: t.exposeString('name'),
    mediaType: t.exposeString('mediaType'),
    url: t.string({
      nullable: true,
      description: 'Download path of an uploaded file: GET it with the bearer token of its owner.',
      resolve: (part) => part.url ?? null,
    }),
    fileId: t.id({
      nullable: true,
      description: 'The uploaded file (ChatFile id).',
      resolve: (part) => part.fileId ?? null,
    }),
    size: t.int({ nullable: true, resolve: (part) => part.size ?? null }),
  }),
});

export const ChatMessageType = builder.prismaObject('ChatMessage', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.id({ resolve: (message) => message.id.toString() }),
    chat: t.relation('chat'),
    role: t.expose('role', { type: MessageRoleEnum }),
    parts: t.field({
      type: [MessagePartInterface],
      resolve: (message) => readParts(message.contentVersion, message.parts),
    }),
    createdBy: t.relation('createdBy', { nullable: true }),
    modelConfig: t.relation('modelConfig', { nullable: true }),
    usage: t.field({
      type: UsageType,
      nullable: true,
      resolve: (message) => toMessagePayload(message).usage,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

registerNodeLoader('ChatMessage', async (ctx, id) => {
  const messageId = parseBigIntId(id);
  const message = messageId
    ? await ctx.prisma.chatMessage.findFirst({ where: { id: messageId, deleted: false } })
    : null;
  if (!message) return null;
  const readable = await findChatForRead(ctx.prisma, ctx.viewer, message.chatId);
  return readable ? message : null;
});

export interface QueuedMessageShape {
  id: string | bigint;
  /** Set on rows read from the database (Chat.queuedMessages groups them by it). */
  chatId?: string;
  text: string;
  /** The FileParts it carries (issue #10): JSON from the row, an array in a QueueEvent. */
  files?: unknown;
  createdAt: Date | string;
}

export const QueuedMessageType = builder.objectRef<QueuedMessageShape>('QueuedMessage').implement({
  fields: (t) => ({
    id: t.id({ resolve: (queued) => queued.id.toString() }),
    text: t.exposeString('text'),
    files: t.field({
      type: [FilePartType],
      description: 'The files the message carries; they stay with it until it runs.',
      resolve: (queued) => queuedFileParts({ files: queued.files ?? [] }),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (queued) => queued.createdAt }),
  }),
});
