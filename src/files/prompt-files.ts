import type { PrismaClient } from '../generated/prisma/client.js';
import type { ChatMessage } from '../generated/prisma/client.js';
import { readParts } from '../chats/parts.js';

/** A file's bytes as the prompt builder needs them. */
export interface PromptFile {
  name: string;
  mediaType: string;
  size: number;
  data: Uint8Array;
}

/**
 * The files the history's USER messages reference, by id, in one query. Read by the daemon for
 * every turn: a file stays in the conversation like the text around it.
 */
export async function loadPromptFiles(
  prisma: PrismaClient,
  history: readonly ChatMessage[],
): Promise<Map<string, PromptFile>> {
  const ids = new Set<string>();
  for (const message of history) {
    if (message.role !== 'USER' || message.deleted) continue;
    for (const part of readParts(message.contentVersion, message.parts)) {
      if (part.type === 'FILE' && part.fileId) ids.add(part.fileId);
    }
  }
  if (ids.size === 0) return new Map();
  const files = await prisma.chatFile.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, name: true, mediaType: true, size: true, data: true },
  });
  return new Map(files.map(({ id, ...file }) => [id, file]));
}
