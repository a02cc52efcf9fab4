import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestClient } from '../../support/client.js';
import { createDefaultModel } from '../../support/fixtures.js';
import { startMcpTestServer, type McpTestServer } from '../../support/mcp-server.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * The MCP server API (issue #12): admin CRUD with secrets encrypted and never returned, the
 * members' redacted view, mcpServerTools against a real MCP server, per-chat availability, and
 * every bad input refused with a code and nothing changed.
 */
const FIELDS = `id name displayName url transport authType apiKeyHeader hasApiKey hasCustomHeaders
  toolAllowList toolDenyList availability enabled`;
const CREATE = `mutation ($input: CreateMcpServerInput!) { createMcpServer(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($input: UpdateMcpServerInput!) { updateMcpServer(input: $input) { ${FIELDS} } }`;
const DELETE = `mutation ($id: ID!) { deleteMcpServer(id: $id) }`;
const LIST = `{ mcpServers { ${FIELDS} } }`;
const TOOLS = `query ($id: ID!) { mcpServerTools(id: $id) { name exposedName description inputSchema allowed } }`;
const CHAT_SERVERS = `query ($id: ID!) { chat(id: $id) { mcpServers { name } } }`;

const API_KEY = 'mcp-secret-api-key-0123456789';
const HEADER_VALUE = 'mcp-secret-header-value-9876543210';

interface Server {
  id: string;
  name: string;
  url: string | null;
  hasApiKey: boolean | null;
  hasCustomHeaders: boolean | null;
  toolAllowList: string[] | null;
  availability: string;
  enabled: boolean;
  apiKeyHeader: string | null;
}

describe('MCP servers: admin API (issue #12)', () => {
  let server: TestServer;
  let member: TestClient;
  let mcp: McpTestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    member = (await server.createMember()).client;
    await createDefaultModel(server);
    mcp = await startMcpTestServer({
      transport: 'STREAMABLE_HTTP',
      requiredHeaders: { 'x-api-key': API_KEY },
      setup(mcpServer) {
        mcpServer.registerTool(
          'search',
          { description: 'Searches issues.', inputSchema: { query: z.string() } },
          ({ query }) => ({ content: [{ type: 'text', text: query }] }),
        );
        mcpServer.registerTool('delete_all', { description: 'Dangerous.' }, () => ({
          content: [],
        }));
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await mcp?.close();
  });

  const prisma = () => server.app.deps.prisma;
  const snapshot = async () => ({
    servers: await prisma().mcpServer.findMany({ orderBy: { id: 'asc' } }),
    choices: await prisma().chatMcpServer.findMany(),
    chats: await prisma().chat.count(),
  });

  async function create(input: Record<string, unknown>) {
    const data = await server.admin.query<{ createMcpServer: Server }>(CREATE, {
      input: { displayName: 'Test', url: mcp.url, ...input },
    });
    return data.createMcpServer;
  }

  it('creates a server with an API key: stored encrypted, never returned', async () => {
    const response = await server.admin.request(CREATE, {
      input: {
        name: 'tracker',
        displayName: 'Issue tracker',
        url: mcp.url,
        authType: 'API_KEY',
        apiKeyHeader: 'X-Api-Key',
        apiKey: API_KEY,
        toolDenyList: ['delete_all'],
        enabled: true,
      },
    });
    expect(response.errors).toBeUndefined();
    expect(JSON.stringify(response)).not.toContain(API_KEY);
    expect(response.data).toMatchObject({
      createMcpServer: {
        name: 'tracker',
        transport: 'STREAMABLE_HTTP',
        authType: 'API_KEY',
        apiKeyHeader: 'X-Api-Key',
        hasApiKey: true,
        hasCustomHeaders: false,
        toolDenyList: ['delete_all'],
        availability: 'DEFAULT_ON',
        enabled: true,
      },
    });
    const stored = await prisma().mcpServer.findUniqueOrThrow({ where: { name: 'tracker' } });
    expect(stored.apiKeyEncrypted).toMatch(/^v1:/);
    expect(JSON.stringify(stored)).not.toContain(API_KEY);
  });

  it('lists what the server offers right now, with the names the model sees', async () => {
    const { id } = await prisma().mcpServer.findUniqueOrThrow({ where: { name: 'tracker' } });
    const data = await server.admin.query<{ mcpServerTools: Record<string, unknown>[] }>(TOOLS, {
      id,
    });
    const byName = Object.fromEntries(data.mcpServerTools.map((tool) => [tool['name'], tool]));
    expect(byName['search']).toMatchObject({
      exposedName: 'tracker__search',
      description: 'Searches issues.',
      allowed: true,
      inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
    });
    expect(byName['delete_all']).toMatchObject({ allowed: false });
    // The key reached the server in its header (the server answers 401 otherwise).
    expect(mcp.requests.some((headers) => headers['x-api-key'] === API_KEY)).toBe(true);
  });

  it('stores custom headers encrypted and switches auth types cleanly', async () => {
    const created = await create({
      name: 'headers-only',
      authType: 'HEADERS',
      customHeaders: [{ name: 'X-Team-Token', value: HEADER_VALUE }],
    });
    expect(created).toMatchObject({ hasCustomHeaders: true, hasApiKey: false, enabled: false });
    const response = await server.admin.request(UPDATE, {
      input: { id: created.id, authType: 'NONE', displayName: 'No auth now' },
    });
    expect(JSON.stringify(response)).not.toContain(HEADER_VALUE);
    expect(response.data).toMatchObject({
      updateMcpServer: { authType: 'NONE', hasCustomHeaders: false },
    });
    const stored = await prisma().mcpServer.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored.customHeadersEncrypted).toBeNull();
    expect(await server.admin.query(DELETE, { id: created.id })).toEqual({ deleteMcpServer: true });
  });

  it('shows members the enabled servers only, without the admin fields', async () => {
    await create({ name: 'hidden-off' });
    const data = await member.query<{ mcpServers: Server[] }>(LIST);
    expect(data.mcpServers.map((s) => s.name)).toEqual(['tracker']);
    expect(data.mcpServers[0]).toMatchObject({
      url: null,
      hasApiKey: null,
      apiKeyHeader: null,
      toolAllowList: null,
      availability: 'DEFAULT_ON',
    });
    const admin = await server.admin.query<{ mcpServers: Server[] }>(LIST);
    expect(admin.mcpServers.map((s) => s.name)).toEqual(['hidden-off', 'tracker']);
  });

  it('refuses the admin operations to a member (FORBIDDEN) and changes nothing', async () => {
    const before = await snapshot();
    const { id } = before.servers[0]!;
    const attempts = [
      member.expectError(CREATE, { input: { name: 'mine', displayName: 'Mine', url: mcp.url } }),
      member.expectError(UPDATE, { input: { id, enabled: false } }),
      member.expectError(DELETE, { id }),
      member.expectError(TOOLS, { id }),
    ];
    for (const attempt of await Promise.all(attempts)) expect(attempt.codes).toEqual(['FORBIDDEN']);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses bad input with a coded error and changes nothing', async () => {
    const before = await snapshot();
    const tracker = before.servers.find((s) => s.name === 'tracker')!;
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ name: 'Bad_Slug' }, 'BAD_USER_INPUT', 'name'],
      [{ name: 'a--b' }, 'BAD_USER_INPUT', 'name'],
      [{ name: 'x'.repeat(31) }, 'BAD_USER_INPUT', 'name'],
      [{ name: 'tracker' }, 'CONFLICT'],
      [{ name: 'ok', url: 'ftp://example.com/mcp' }, 'BAD_USER_INPUT', 'url'],
      [{ name: 'ok', url: 'not a url' }, 'BAD_USER_INPUT', 'url'],
      [{ name: 'ok', url: 'http://user:pw@example.com/mcp' }, 'BAD_USER_INPUT', 'url'],
      [{ name: 'ok', url: 'http://169.254.169.254/latest' }, 'BAD_USER_INPUT', 'url'],
      [{ name: 'ok', apiKey: 'k' }, 'BAD_USER_INPUT', 'apiKey'],
      [{ name: 'ok', authType: 'API_KEY' }, 'BAD_USER_INPUT', 'apiKey'],
      [{ name: 'ok', authType: 'HEADERS' }, 'BAD_USER_INPUT', 'customHeaders'],
      [
        { name: 'ok', authType: 'HEADERS', customHeaders: [{ name: 'X-A', value: 'a\r\nb' }] },
        'BAD_USER_INPUT',
        'customHeaders',
      ],
      [
        { name: 'ok', authType: 'HEADERS', customHeaders: [{ name: 'Host', value: 'x' }] },
        'BAD_USER_INPUT',
        'customHeaders',
      ],
      [{ name: 'ok', toolAllowList: [''] }, 'BAD_USER_INPUT', 'toolAllowList'],
    ];
    for (const [input, code, field] of cases) {
      const { errors } = await server.admin.expectError(CREATE, {
        input: { displayName: 'X', url: mcp.url, ...input },
      });
      expect({ input, code: errors[0]?.extensions?.['code'] }).toEqual({ input, code });
      if (field) expect(errors[0]?.extensions?.['field']).toBe(field);
    }
    const updates: [Record<string, unknown>, string][] = [
      [{ id: '00000000-0000-4000-8000-000000000000' }, 'NOT_FOUND'],
      [{ id: 'not-a-uuid' }, 'NOT_FOUND'],
      [{ id: tracker.id, name: 'hidden-off' }, 'CONFLICT'],
      [{ id: tracker.id, authType: 'HEADERS' }, 'BAD_USER_INPUT'],
      [{ id: tracker.id, url: 'javascript:alert(1)' }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of updates) {
      const { codes } = await server.admin.expectError(UPDATE, { input });
      expect({ input, codes }).toEqual({ input, codes: [code] });
    }
    expect((await server.admin.expectError(DELETE, { id: 'nope' })).codes).toEqual(['NOT_FOUND']);
    // Unknown or disabled server ids on a chat: nothing is created.
    const disabled = before.servers.find((s) => s.name === 'hidden-off')!;
    for (const ids of [['00000000-0000-4000-8000-000000000000'], ['junk'], [disabled.id]]) {
      const { errors } = await member.expectError(
        `mutation ($ids: [ID!]) { createChat(input: { text: "hi", mcpServerIds: $ids }) { id } }`,
        { ids },
      );
      expect(errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'mcpServerIds',
      });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('applies FORCE_ON always, DEFAULT_ON unless left out, DEFAULT_OFF only when chosen', async () => {
    const forced = await create({ name: 'forced', availability: 'FORCE_ON', enabled: true });
    const optIn = await create({ name: 'opt-in', availability: 'DEFAULT_OFF', enabled: true });
    const createChat = async (ids?: string[]) => {
      const data = await member.query<{
        createChat: { id: string; mcpServers: { name: string }[] };
      }>(
        `mutation ($ids: [ID!]) { createChat(input: { text: "hi", mcpServerIds: $ids }) {
          id mcpServers { name } } }`,
        { ids },
      );
      return data.createChat;
    };
    const names = (chat: { mcpServers: { name: string }[] }) => chat.mcpServers.map((s) => s.name);
    const chatServers = async (id: string) =>
      names(
        (await member.query<{ chat: { mcpServers: { name: string }[] } }>(CHAT_SERVERS, { id }))
          .chat,
      );

    expect(names(await createChat())).toEqual(['forced', 'tracker']);
    const chosen = await createChat([optIn.id]);
    expect(names(chosen)).toEqual(['forced', 'opt-in']);
    // Leaving FORCE_ON out does not remove it; an empty list keeps only it.
    await member.query(
      `mutation ($id: ID!) { updateChat(input: { id: $id, mcpServerIds: [] }) { id } }`,
      { id: chosen.id },
    );
    expect(await chatServers(chosen.id)).toEqual(['forced']);
    // null: no change.
    await member.query(
      `mutation ($id: ID!) { updateChat(input: { id: $id, title: "renamed" }) { id } }`,
      { id: chosen.id },
    );
    expect(await chatServers(chosen.id)).toEqual(['forced']);
    // sendMessage may change the choice too; a server created later follows its availability.
    await member.query(
      `mutation ($id: ID!, $ids: [ID!]) { sendMessage(input: { chatId: $id, text: "more", mcpServerIds: $ids }) { chat { id } } }`,
      { id: chosen.id, ids: [optIn.id] },
    );
    await create({ name: 'later', availability: 'DEFAULT_ON', enabled: true });
    expect(await chatServers(chosen.id)).toEqual(['forced', 'later', 'opt-in']);
    // A disabled server is never used.
    await server.admin.query(UPDATE, { input: { id: forced.id, enabled: false } });
    expect(await chatServers(chosen.id)).toEqual(['later', 'opt-in']);

    // A subagent uses its root's servers, and cannot choose its own.
    const root = await prisma().chat.findUniqueOrThrow({ where: { id: chosen.id } });
    const child = await prisma().chat.create({
      data: {
        ownerId: root.ownerId,
        title: 'child',
        status: 'WAITING',
        parentId: root.id,
        rootId: root.id,
      },
    });
    expect(await chatServers(child.id)).toEqual(['later', 'opt-in']);
    const refused = await member.expectError(
      `mutation ($id: ID!) { updateChat(input: { id: $id, mcpServerIds: [] }) { id } }`,
      { id: child.id },
    );
    expect(refused.codes).toEqual(['BAD_USER_INPUT']);
  });
});
