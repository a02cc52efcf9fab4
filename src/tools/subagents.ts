import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
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
