import { isAdmin } from '../../deps.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { storedToolList } from '../../mcp/validation.js';
import type { McpServerToolInfo } from '../../mcp/service.js';
import { ChatType } from './chats.js';
import { NodeInterface, registerNodeLoader } from './node.js';
import { isUuid } from '../../db/ids.js';

/**
 * MCP servers (issue #12). Admins manage them and see every field; members see the enabled ones
 * with only what picking them needs (the admin-only fields are null for them). Secrets are never
 * returned, not even encrypted: only hasApiKey / hasCustomHeaders.
 */
export const McpTransportEnum = builder.enumType('McpTransport', {
  values: {
    STREAMABLE_HTTP: { description: 'MCP Streamable HTTP (recommended).' },
    SSE: { description: 'The older HTTP + Server-Sent Events transport.' },
  } as const,
});

export const McpAuthTypeEnum = builder.enumType('McpAuthType', {
  values: {
    NONE: { description: 'No authentication.' },
    API_KEY: {
      description:
        'One header carries a key (default Authorization, sent as `Bearer <key>` unless the key starts with a scheme).',
    },
    HEADERS: { description: 'Custom headers (name and value each), sent with every request.' },
  } as const,
});

export const McpAvailabilityEnum = builder.enumType('McpAvailability', {
  values: {
    FORCE_ON: { description: 'Every chat uses it; mcpServerIds cannot deselect it.' },
    DEFAULT_ON: { description: 'Chats use it unless mcpServerIds leaves it out.' },
    DEFAULT_OFF: { description: 'Chats use it only when mcpServerIds names it.' },
  } as const,
});

const adminOnly = (ctx: GraphQLContext) => isAdmin(ctx.viewer);

export const McpServerType = builder.prismaObject('McpServer', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', {
      description: 'Slug; the model sees this server’s tools as `<name>__<tool>`.',
    }),
    displayName: t.exposeString('displayName'),
    availability: t.expose('availability', { type: McpAvailabilityEnum }),
    enabled: t.exposeBoolean('enabled'),
    url: t.string({
      nullable: true,
      description: 'Admins only (null for members).',
      select: { url: true },
      resolve: (server, _args, ctx) => (adminOnly(ctx) ? server.url : null),
    }),
    transport: t.field({
      type: McpTransportEnum,
      nullable: true,
      description: 'Admins only.',
      select: { transport: true },
      resolve: (server, _args, ctx) => (adminOnly(ctx) ? server.transport : null),
    }),
    authType: t.field({
      type: McpAuthTypeEnum,
      nullable: true,
      description: 'Admins only.',
      select: { authType: true },
      resolve: (server, _args, ctx) => (adminOnly(ctx) ? server.authType : null),
    }),
    apiKeyHeader: t.string({
      nullable: true,
      description: 'Admins only: the header that carries the API key (authType API_KEY).',
      select: { apiKeyHeader: true },
      resolve: (server, _args, ctx) => (adminOnly(ctx) ? server.apiKeyHeader : null),
    }),
    hasApiKey: t.boolean({
      nullable: true,
      description: 'Admins only: an API key is stored. The key itself is never returned.',
      select: { apiKeyEncrypted: true },
      resolve: (server, _args, ctx) => (adminOnly(ctx) ? server.apiKeyEncrypted !== null : null),
    }),
    hasCustomHeaders: t.boolean({
      nullable: true,
      description: 'Admins only: custom headers are stored. They are never returned.',
      select: { customHeadersEncrypted: true },
      resolve: (server, _args, ctx) =>
        adminOnly(ctx) ? server.customHeadersEncrypted !== null : null,
    }),
    toolAllowList: t.stringList({
      nullable: true,
      description:
        'Admins only. When not empty, only these tools (the server’s names) are offered.',
      select: { toolAllowList: true },
      resolve: (server, _args, ctx) =>
        adminOnly(ctx) ? storedToolList(server.toolAllowList) : null,
    }),
    toolDenyList: t.stringList({
      nullable: true,
      description: 'Admins only. These tools are never offered.',
      select: { toolDenyList: true },
      resolve: (server, _args, ctx) =>
        adminOnly(ctx) ? storedToolList(server.toolDenyList) : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

// Members resolve enabled servers only, like the `mcpServers` list.
registerNodeLoader('McpServer', async (ctx, id) =>
  isUuid(id)
    ? ctx.prisma.mcpServer.findFirst({
        where: isAdmin(ctx.viewer) ? { id } : { id, enabled: true },
      })
    : null,
);

const McpServerToolType = builder.objectRef<McpServerToolInfo>('McpServerTool').implement({
  description: 'A tool an MCP server offers right now.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The server’s own name for the tool.' }),
    exposedName: t.exposeString('exposedName', {
      nullable: true,
      description:
        'What the model is offered (`<server>__<tool>`); null when no valid tool name can be made.',
    }),
    description: t.exposeString('description', { nullable: true }),
    inputSchema: t.field({ type: 'JSON', resolve: (tool) => tool.inputSchema }),
    allowed: t.exposeBoolean('allowed', {
      description: 'False when the allow or deny list leaves it out.',
    }),
  }),
});

const McpHeaderInput = builder.inputType('McpHeaderInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    value: t.string({ required: true }),
  }),
});

const CreateMcpServerInput = builder.inputType('CreateMcpServerInput', {
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Unique slug: lowercase letters, digits and single hyphens (1-30).',
    }),
    displayName: t.string({ required: true }),
    url: t.string({ required: true, description: 'http(s) URL of the MCP endpoint.' }),
    transport: t.field({ type: McpTransportEnum, description: 'Default STREAMABLE_HTTP.' }),
    authType: t.field({ type: McpAuthTypeEnum, description: 'Default NONE.' }),
    apiKeyHeader: t.string({ description: 'API_KEY only. Default Authorization.' }),
    apiKey: t.string({ description: 'API_KEY only. Stored encrypted, never returned.' }),
    customHeaders: t.field({
      type: [McpHeaderInput],
      description: 'HEADERS only. Stored encrypted, never returned.',
    }),
    toolAllowList: t.stringList({ description: 'Default empty: every tool.' }),
    toolDenyList: t.stringList(),
    availability: t.field({ type: McpAvailabilityEnum, description: 'Default DEFAULT_ON.' }),
    enabled: t.boolean({ description: 'Default false.' }),
  }),
});

const UpdateMcpServerInput = builder.inputType('UpdateMcpServerInput', {
  description:
    'Null or absent leaves a field as it is. Changing authType needs its secret unless one is stored; the other auth types’ secrets are removed.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    displayName: t.string(),
    url: t.string(),
    transport: t.field({ type: McpTransportEnum }),
    authType: t.field({ type: McpAuthTypeEnum }),
    apiKeyHeader: t.string(),
    apiKey: t.string(),
    customHeaders: t.field({ type: [McpHeaderInput], description: 'Replaces every header.' }),
    toolAllowList: t.stringList(),
    toolDenyList: t.stringList(),
    availability: t.field({ type: McpAvailabilityEnum }),
    enabled: t.boolean(),
  }),
});

builder.queryFields((t) => ({
  mcpServers: t.prismaField({
    type: ['McpServer'],
    description: 'Admins: every MCP server. Members: the enabled ones.',
    resolve: (query, _root, _args, ctx) => ctx.services.mcpServers.listServers(ctx.viewer, query),
  }),
  mcpServerTools: t.field({
    type: [McpServerToolType],
    description: 'Admins only: the tools the server offers right now (connects to it).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.mcpServers.serverTools(ctx.viewer, id),
  }),
}));

builder.mutationFields((t) => ({
  createMcpServer: t.prismaField({
    type: 'McpServer',
    args: { input: t.arg({ type: CreateMcpServerInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      ctx.services.mcpServers.createServer(ctx.viewer, input, query),
  }),
  updateMcpServer: t.prismaField({
    type: 'McpServer',
    args: { input: t.arg({ type: UpdateMcpServerInput, required: true }) },
    resolve: (query, _root, { input }, ctx) =>
      ctx.services.mcpServers.updateServer(ctx.viewer, input, query),
  }),
  deleteMcpServer: t.boolean({
    description: 'Chats stop using it at their next turn; their history keeps its old results.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.mcpServers.deleteServer(ctx.viewer, id),
  }),
}));

builder.objectField(ChatType, 'mcpServers', (t) =>
  t.prismaField({
    type: ['McpServer'],
    description:
      'The enabled MCP servers this chat’s turns use (a subagent: its root chat’s), by name.',
    resolve: async (query, chat, _args, ctx) => {
      const servers = await ctx.services.mcpServers.serversOfChat(chat);
      if (servers.length === 0 || !hasSelection(query)) return servers;
      return ctx.prisma.mcpServer.findMany({
        ...query,
        where: { id: { in: servers.map((server) => server.id) } },
        orderBy: { name: 'asc' },
      });
    },
  }),
);

const hasSelection = (query: { include?: unknown; select?: unknown }) =>
  query.include !== undefined || query.select !== undefined;
