import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';
import type { McpServer, Prisma } from '../generated/prisma/client.js';

/**
 * Which MCP servers a chat uses (issue #12). `mcpServerIds` on createChat / sendMessage /
 * updateChat records a choice for every server that exists then (listed: selected; not listed:
 * deselected); a server created later has no choice yet, so its availability decides. FORCE_ON
 * servers always apply and DEFAULT_ON ones unless deselected; disabled servers never do.
 * Subagents use their root chat's choices.
 */
export const MAX_SELECTED_SERVERS = 100;

/** The ids to select, checked: each names an enabled server. Null (no change) stays null. */
export async function validateMcpSelection(
  prisma: PrismaClient,
  ids: readonly string[] | null | undefined,
): Promise<string[] | null> {
  if (ids == null) return null;
  const unique = [...new Set(ids)];
  if (unique.length > MAX_SELECTED_SERVERS) {
    throw badInput('mcpServerIds', `mcpServerIds may name at most ${MAX_SELECTED_SERVERS} servers`);
  }
  const malformed = unique.find((id) => !isUuid(id));
  if (malformed !== undefined) throw unknownServer(malformed);
  const found = await prisma.mcpServer.findMany({
    where: { id: { in: unique }, enabled: true },
    select: { id: true },
  });
  const known = new Set(found.map((server) => server.id));
  const missing = unique.find((id) => !known.has(id));
  if (missing !== undefined) throw unknownServer(missing);
  return unique;
}

const unknownServer = (id: string) =>
  badInput('mcpServerIds', `Unknown or disabled MCP server: ${id.slice(0, 64)}`);

/** Replaces the chat's choices (in the caller's transaction) with `selected` among all servers. */
export async function saveMcpSelection(
  tx: Prisma.TransactionClient,
  chatId: string,
  selected: readonly string[],
) {
  const servers = await tx.mcpServer.findMany({
    where: { availability: { not: 'FORCE_ON' } },
    select: { id: true },
  });
  await tx.chatMcpServer.deleteMany({ where: { chatId } });
  if (servers.length === 0) return;
  await tx.chatMcpServer.createMany({
    data: servers.map((server) => ({
      chatId,
      mcpServerId: server.id,
      selected: selected.includes(server.id),
    })),
  });
}

/** The enabled servers a chat (its root's choices) uses, by name. */
export async function serversOfChat(
  prisma: PrismaClient,
  rootChatId: string,
): Promise<McpServer[]> {
  const servers = await prisma.mcpServer.findMany({
    where: { enabled: true },
    include: { chatChoices: { where: { chatId: rootChatId }, select: { selected: true } } },
    orderBy: { name: 'asc' },
  });
  return servers
    .filter(
      (server) =>
        server.availability === 'FORCE_ON' ||
        (server.chatChoices[0]?.selected ?? server.availability === 'DEFAULT_ON'),
    )
    .map(({ chatChoices: _choices, ...server }) => server);
}
