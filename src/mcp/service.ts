import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';

import { isUniqueViolation } from '../db/errors.js';
import { isUuid } from '../db/ids.js';
import type { Deps, Viewer } from '../deps.js';
import { badInput, conflict, notFound } from '../errors.js';
import type {
  McpAuthType,
  McpAvailability,
  McpServer,
  McpTransport,
  Prisma,
} from '../generated/prisma/client.js';
import { blockedProviderUrlReason } from '../llm/network-policy.js';
import { topics } from '../pubsub/index.js';
import type { Tool } from '../tools/tool.js';
import { requireAdmin } from '../users/service.js';
import { McpConnectionPool, type McpConnectionConfig } from './pool.js';
import { chatServersAmong, serversOfChat } from './selection.js';
import { exposedToolName, isToolAllowed, toolsOfServer, type McpServerForTools } from './tools.js';
import {
  apiKeyHeader,
  customHeaders,
  displayName,
  secretValue,
  serverName,
  serverUrl,
  storedToolList,
  toolNameList,
} from './validation.js';

/**
 * Admin-managed MCP servers (issue #12): their configs (secrets encrypted with SECRET_KEY, never
 * returned, never logged), this replica's connection pool, and the tools a turn gets from them.
 * Admins manage servers; members see the enabled ones (the GraphQL type redacts the rest).
 */
export interface McpHeaderInput {
  name: string;
  value: string;
}

export interface CreateMcpServerInput {
  name: string;
  displayName: string;
  url: string;
  /** Default STREAMABLE_HTTP. */
  transport?: McpTransport | null;
  /** Default NONE. */
  authType?: McpAuthType | null;
  /** API_KEY: the header that carries the key. Default Authorization (sent as `Bearer <key>`). */
  apiKeyHeader?: string | null;
  apiKey?: string | null;
  customHeaders?: McpHeaderInput[] | null;
  toolAllowList?: string[] | null;
  toolDenyList?: string[] | null;
  /** Default DEFAULT_ON. */
  availability?: McpAvailability | null;
  /** Default false. */
  enabled?: boolean | null;
}

/** Null or absent leaves a field as it is; a new authType needs its secret unless one is stored. */
export type UpdateMcpServerInput = { id: string } & {
  [Field in keyof CreateMcpServerInput]?: CreateMcpServerInput[Field] | null;
};

type McpServerQuery = { include?: Prisma.McpServerInclude; select?: Prisma.McpServerSelect };

/** One of the server's tools as the admin checks it. */
export interface McpServerToolInfo {
  name: string;
  /** What the model is offered; null when the name cannot be made a valid tool name. */
  exposedName: string | null;
  description: string | null;
  inputSchema: unknown;
  /** False when the allow or deny list leaves it out. */
  allowed: boolean;
}

/** A bearer scheme already in the value is kept; a bare key in Authorization gets `Bearer `. */
const AUTH_SCHEME = /^(bearer|basic|token)\s/i;

export function createMcpServerService(
  deps: Pick<Deps, 'prisma' | 'secretBox' | 'config' | 'logger' | 'pubsub'>,
) {
  const { prisma, secretBox, config, logger, pubsub } = deps;

  const checkUrl = (url: string) =>
    config.ALLOW_PRIVATE_PROVIDER_URLS ? Promise.resolve(null) : blockedProviderUrlReason(url);

  /**
   * The enabled servers, read once and kept until an admin changes one (on any replica, through
   * pub/sub; after a broker outage too): a turn then costs no statement for MCP unless the chat
   * has servers it may deselect.
   */
  let enabledCache: Promise<McpServer[]> | null = null;
  let unsubscribe: (() => Promise<void>) | null = null;
  function enabledServers() {
    if (!enabledCache) {
      const servers = prisma.mcpServer.findMany({
        where: { enabled: true },
        orderBy: { name: 'asc' },
      });
      enabledCache = servers;
      // A failed read is not kept.
      servers.catch(() => {
        if (enabledCache === servers) enabledCache = null;
      });
    }
    return enabledCache;
  }
  function forget(serverId: string) {
    enabledCache = null;
    pool.drop(serverId);
  }
  /** After an admin's change: this replica at once, the others through pub/sub. */
  async function changed(serverId: string) {
    forget(serverId);
    await pubsub.publish(topics.mcpServersChanged(), { serverId });
  }

  const pool = new McpConnectionPool({
    logger,
    connectTimeoutMs: config.MCP_CONNECT_TIMEOUT_MS,
    checkUrl,
  });

  /** serverUrl, then the network policy (checked again at every connect, in the pool). */
  async function allowedUrl(value: string) {
    const url = serverUrl(value);
    const reason = await checkUrl(url);
    if (reason) {
      throw badInput(
        'url',
        `url refused: ${reason} (set ALLOW_PRIVATE_PROVIDER_URLS=true to allow)`,
      );
    }
    return url;
  }

  async function findServer(id: string) {
    const server = isUuid(id) ? await prisma.mcpServer.findUnique({ where: { id } }) : null;
    if (!server) throw notFound('MCP server');
    return server;
  }

  /**
   * The auth columns for `authType`: its secret from the input, or the stored one; the secrets of
   * other auth types are cleared. A secret given for another auth type is refused, not ignored.
   */
  function authData(
    input: Pick<CreateMcpServerInput, 'authType' | 'apiKey' | 'apiKeyHeader' | 'customHeaders'>,
    stored: McpServer | null,
  ) {
    const authType = input.authType ?? stored?.authType ?? 'NONE';
    if (authType !== 'API_KEY' && input.apiKey != null) {
      throw badInput('apiKey', 'apiKey is used only with authType API_KEY');
    }
    if (authType !== 'API_KEY' && input.apiKeyHeader != null) {
      throw badInput('apiKeyHeader', 'apiKeyHeader is used only with authType API_KEY');
    }
    if (authType !== 'HEADERS' && input.customHeaders != null) {
      throw badInput('customHeaders', 'customHeaders are used only with authType HEADERS');
    }
    const cleared = { apiKeyHeader: null, apiKeyEncrypted: null, customHeadersEncrypted: null };
    if (authType === 'API_KEY') {
      const header = apiKeyHeader(input.apiKeyHeader ?? stored?.apiKeyHeader);
      if (input.apiKey != null) {
        const key = secretValue('apiKey', input.apiKey);
        return {
          ...cleared,
          authType,
          apiKeyHeader: header,
          apiKeyEncrypted: secretBox.encrypt(key),
        };
      }
      if (!stored?.apiKeyEncrypted) throw badInput('apiKey', 'authType API_KEY needs an apiKey');
      return {
        ...cleared,
        authType,
        apiKeyHeader: header,
        apiKeyEncrypted: stored.apiKeyEncrypted,
      };
    }
    if (authType === 'HEADERS') {
      if (input.customHeaders != null) {
        const headers = customHeaders(input.customHeaders);
        return {
          ...cleared,
          authType,
          customHeadersEncrypted: secretBox.encrypt(JSON.stringify(headers)),
        };
      }
      if (!stored?.customHeadersEncrypted) {
        throw badInput('customHeaders', 'authType HEADERS needs customHeaders');
      }
      return { ...cleared, authType, customHeadersEncrypted: stored.customHeadersEncrypted };
    }
    return { ...cleared, authType };
  }

  /** What the pool needs to connect, secrets decrypted. Throws (naming the server only) if not. */
  function connectionConfig(server: McpServer): McpConnectionConfig {
    const headers: Record<string, string> = {};
    try {
      if (server.authType === 'API_KEY' && server.apiKeyEncrypted && server.apiKeyHeader) {
        const key = secretBox.decrypt(server.apiKeyEncrypted);
        const isAuthorization = server.apiKeyHeader.toLowerCase() === 'authorization';
        headers[server.apiKeyHeader] =
          isAuthorization && !AUTH_SCHEME.test(key) ? `Bearer ${key}` : key;
      }
      if (server.authType === 'HEADERS' && server.customHeadersEncrypted) {
        Object.assign(
          headers,
          JSON.parse(secretBox.decrypt(server.customHeadersEncrypted)) as Record<string, string>,
        );
      }
    } catch {
      throw new Error(
        `Cannot decrypt the secrets of MCP server ${server.name}; was SECRET_KEY changed?`,
      );
    }
    return {
      id: server.id,
      name: server.name,
      url: server.url,
      transport: server.transport,
      secretHeaders: headers,
      version: server.updatedAt.toISOString(),
    };
  }

  function forTools(server: McpServer): McpServerForTools {
    return {
      name: server.name,
      displayName: server.displayName,
      allowList: storedToolList(server.toolAllowList),
      denyList: storedToolList(server.toolDenyList),
      connection: connectionConfig(server),
    };
  }

  async function withNameConflict<T>(name: string | undefined, work: () => Promise<T>) {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`An MCP server named "${name}" already exists`);
      throw error;
    }
  }

  return {
    pool,

    /** Admins: every server. Members: the enabled ones (their fields redacted by the API). */
    listServers(viewer: Viewer, query: McpServerQuery = {}) {
      return prisma.mcpServer.findMany({
        ...query,
        where: viewer.role === 'ADMIN' ? {} : { enabled: true },
        orderBy: { name: 'asc' },
      });
    },

    async createServer(viewer: Viewer, input: CreateMcpServerInput, query: McpServerQuery = {}) {
      requireAdmin(viewer);
      const data: Prisma.McpServerCreateInput = {
        name: serverName(input.name),
        displayName: displayName(input.displayName),
        url: await allowedUrl(input.url),
        transport: input.transport ?? 'STREAMABLE_HTTP',
        ...authData(input, null),
        toolAllowList: toolNameList('toolAllowList', input.toolAllowList ?? []),
        toolDenyList: toolNameList('toolDenyList', input.toolDenyList ?? []),
        availability: input.availability ?? 'DEFAULT_ON',
        enabled: input.enabled ?? false,
      };
      const server = await withNameConflict(data.name, () =>
        prisma.mcpServer.create({ ...query, data }),
      );
      await changed(server.id);
      logger.info('MCP server created', { mcpServer: data.name, by: viewer.username });
      return server;
    },

    async updateServer(viewer: Viewer, input: UpdateMcpServerInput, query: McpServerQuery = {}) {
      requireAdmin(viewer);
      const data: Prisma.McpServerUpdateInput = {};
      if (input.name != null) data.name = serverName(input.name);
      if (input.displayName != null) data.displayName = displayName(input.displayName);
      if (input.url != null) data.url = await allowedUrl(input.url);
      if (input.transport != null) data.transport = input.transport;
      if (input.toolAllowList != null) {
        data.toolAllowList = toolNameList('toolAllowList', input.toolAllowList);
      }
      if (input.toolDenyList != null) {
        data.toolDenyList = toolNameList('toolDenyList', input.toolDenyList);
      }
      if (input.availability != null) data.availability = input.availability;
      if (input.enabled != null) data.enabled = input.enabled;
      const stored = await findServer(input.id);
      Object.assign(data, authData(input, stored));
      const server = await withNameConflict(input.name ?? undefined, () =>
        prisma.mcpServer.update({ ...query, where: { id: stored.id }, data }),
      );
      await changed(stored.id);
      logger.info('MCP server updated', { mcpServer: stored.name, by: viewer.username });
      return server;
    },

    /** A hard delete: chats' choices about it go with it; old tool results stay in history. */
    async deleteServer(viewer: Viewer, id: string) {
      requireAdmin(viewer);
      const { count } = isUuid(id)
        ? await prisma.mcpServer.deleteMany({ where: { id } })
        : { count: 0 };
      if (count === 0) throw notFound('MCP server');
      await changed(id);
      logger.info('MCP server deleted', { mcpServerId: id, by: viewer.username });
      return true;
    },

    /** What the server offers right now (asked, not cached), for an admin checking a config. */
    async serverTools(viewer: Viewer, id: string): Promise<McpServerToolInfo[]> {
      requireAdmin(viewer);
      const server = await findServer(id);
      const forServer = forTools(server);
      let tools: McpTool[];
      try {
        tools = await pool.listTools(forServer.connection, { refresh: true });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw conflict(`MCP server ${server.name} did not list its tools: ${message}`);
      }
      return tools.map((tool) => ({
        name: tool.name,
        exposedName: exposedToolName(server.name, tool.name),
        description: tool.description ?? null,
        inputSchema: tool.inputSchema,
        allowed: isToolAllowed(forServer, tool.name),
      }));
    },

    /** The servers a chat uses (subagents: their root's), enabled only. */
    serversOfChat: (chat: { id: string; rootId: string | null }) =>
      serversOfChat(prisma, chat.rootId ?? chat.id),

    /**
     * The MCP tools of one turn. Never throws: a server that cannot be reached (or listed in time)
     * is left out of this turn with a warning. PLAN mode gets none (B20).
     */
    async toolsForTurn(
      chat: { rootChatId: string; mode: 'DEFAULT' | 'PLAN' },
      signal?: AbortSignal,
    ): Promise<Tool[]> {
      if (chat.mode === 'PLAN') return [];
      let servers: McpServer[];
      try {
        servers = await chatServersAmong(prisma, chat.rootChatId, await enabledServers());
      } catch (error) {
        logger.warn('reading the chat’s MCP servers failed', { error });
        return [];
      }
      const perServer = await Promise.all(
        servers.map(async (server) => {
          try {
            const forServer = forTools(server);
            const tools = await pool.listTools(forServer.connection, { signal });
            return toolsOfServer(
              { pool, logger, callTimeoutMs: config.MCP_CALL_TIMEOUT_MS },
              forServer,
              tools,
            );
          } catch (error) {
            if (!signal?.aborted) {
              logger.warn('MCP server left out of the turn', {
                mcpServer: server.name,
                rootChatId: chat.rootChatId,
                error: error instanceof Error ? error.message : String(error),
              });
            }
            return [];
          }
        }),
      );
      return perServer.flat();
    },

    /** Subscribes to admins' changes and reads the enabled servers once (at app start). */
    async start() {
      unsubscribe = await pubsub.subscribe(
        topics.mcpServersChanged(),
        ({ serverId }) => forget(serverId),
        { onResume: () => (enabledCache = null) },
      );
      await enabledServers();
    },

    async close() {
      await unsubscribe?.();
      await pool.close();
    },
  };
}

export type McpServerService = ReturnType<typeof createMcpServerService>;
