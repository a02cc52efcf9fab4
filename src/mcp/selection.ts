import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';
import { Prisma, type McpServer } from '../generated/prisma/client.js';

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
  await tx.chatMcpServer.deleteMany({ where: { chatId } });
  await tx.$executeRaw`
    INSERT INTO chat_mcp_servers (chat_id, mcp_server_id, selected)
    SELECT ${chatId}::uuid, choice.mcp_server_id, choice.selected
    FROM (${mcpChoiceRows(selected)}) AS choice`;
}

/**
 * The rows a choice of `selected` records: one per server that exists now, FORCE_ON ones aside
 * (they always apply). Shared by saveMcpSelection and createPendingChat's single statement.
 */
export function mcpChoiceRows(selected: readonly string[]): Prisma.Sql {
  return Prisma.sql`SELECT id AS mcp_server_id, id = ANY(${[...selected]}::uuid[]) AS selected
    FROM mcp_servers WHERE availability <> 'FORCE_ON'`;
}

/** The enabled servers a chat (its root's choices) uses, by name. */
export async function serversOfChat(
  prisma: PrismaClient,
  rootChatId: string,
): Promise<McpServer[]> {
  const enabled = await prisma.mcpServer.findMany({
    where: { enabled: true },
    orderBy: { name: 'asc' },
  });
  return chatServersAmong(prisma, rootChatId, enabled);
}

/**
 * The servers among `enabled` that a chat uses. Its choices are read only when one could matter:
 * no enabled server, or only FORCE_ON ones, costs no statement.
 */
export async function chatServersAmong(
  prisma: PrismaClient,
  rootChatId: string,
  enabled: readonly McpServer[],
): Promise<McpServer[]> {
  if (enabled.every((server) => server.availability === 'FORCE_ON')) return [...enabled];
  const choices = await prisma.chatMcpServer.findMany({
    where: { chatId: rootChatId, mcpServerId: { in: enabled.map((server) => server.id) } },
    select: { mcpServerId: true, selected: true },
  });
  const chosen = new Map(choices.map((choice) => [choice.mcpServerId, choice.selected]));
  return enabled.filter(
    (server) =>
      server.availability === 'FORCE_ON' ||
      (chosen.get(server.id) ?? server.availability === 'DEFAULT_ON'),
  );
}
