import { z } from 'zod';

import type { ChatEvents } from '../chats/events.js';
import { initialTitle } from '../chats/titles.js';
import { createPendingChat } from '../chats/transitions.js';
import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
import type { Deps } from '../deps.js';
import { topics } from '../pubsub/index.js';
import { storableText } from '../text/storable.js';
import type { ToolContext } from './tool.js';

/**
 * Shared by spawn_agent, wait_agent and message_agent: a subagent is reachable only from the chat
 * tree it belongs to (B19), so a model cannot wait on or message another user's chat.
 */
export async function findDescendant(prisma: PrismaClient, context: ToolContext, chatId: unknown) {
  if (typeof chatId !== 'string' || !isUuid(chatId)) return null;
  const chat = await prisma.chat.findFirst({ where: { id: chatId, deletedAt: null } });
  if (!chat || chat.id === context.chatId || chat.ownerId !== context.ownerId) return null;
  return chat.rootId === context.rootChatId ? chat : null;
}

export const AGENT_REPORT_MAX_CHARS = 16_000;

/** The prompt argument both spawn tools take: the child's whole task. */
export const MAX_CHILD_PROMPT_LENGTH = 50_000;

export function childPromptSchema(description: string) {
  return z
    .string()
    .trim()
    .min(1, 'prompt is required')
    .max(MAX_CHILD_PROMPT_LENGTH, `prompt must be at most ${MAX_CHILD_PROMPT_LENGTH} characters`)
    .describe(description);
}

/**
 * A child chat of the calling chat, PENDING with `prompt` as its first message, in the parent's
 * workspace; announced to the owner's chat list and the daemons. Model-written text becomes the
 * child's title and first message, so it is made storable (src/text/storable.ts).
 */
export async function spawnChildChat(
  deps: Deps,
  events: ChatEvents,
  context: ToolContext,
  child: {
    prompt: string;
    title?: string;
    /** Put before the prompt in the child's first message (not in its title). */
    preamble?: string;
    modelConfigId?: string;
    explore?: boolean;
  },
) {
  const prompt = storableText(child.prompt);
  const parent = await deps.prisma.chat.findUniqueOrThrow({ where: { id: context.chatId } });
  const title = initialTitle(child.title ? storableText(child.title) : prompt);
  const { chat, message } = await createPendingChat(
    deps.sql,
    {
      ownerId: parent.ownerId,
      title,
      modelConfigId: child.modelConfigId ?? parent.modelConfigId,
      workspaceId: parent.workspaceId,
      parentId: parent.id,
      rootId: parent.rootId ?? parent.id,
      ...(child.explore ? { explore: true } : {}),
    },
    child.preamble ? `${child.preamble}\n\n${prompt}` : prompt,
    parent.ownerId,
  );
  await events.list(chat.ownerId, 'CREATED', chat.id);
  await events.message(message);
  await deps.pubsub
    .publish(topics.daemonWake(), { reason: 'subagent spawned' })
    .catch(() => undefined);
  return chat;
}
