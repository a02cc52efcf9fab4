import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../../src/logger.js';
import { McpConnectionPool, type McpConnectionConfig } from '../../../src/mcp/pool.js';
import { exposedToolName, toToolOutcome } from '../../../src/mcp/tools.js';
import { deferred, startMcpTestServer, type McpTestServer } from '../../support/mcp-server.js';

/**
 * The connection pool against a real MCP server (the SDK's server side over Streamable HTTP):
 * reuse, the tool-list cache and its refresh on notifications/tools/list_changed, timeouts.
 */
describe('MCP connection pool', () => {
  let server: McpTestServer;
  let pool: McpConnectionPool;
  let config: McpConnectionConfig;
  const changed: string[] = [];
  let onChanged = deferred();

  beforeAll(async () => {
    server = await startMcpTestServer({
      transport: 'STREAMABLE_HTTP',
      requiredHeaders: { 'x-test-key': 'k-1' },
      setup(mcp) {
        mcp.registerTool('add', { inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
          content: [{ type: 'text', text: String(a + b) }],
        }));
        mcp.registerTool('hang', {}, (extra) => {
          return new Promise((resolve) =>
            extra.signal.addEventListener('abort', () => resolve({ content: [] })),
          );
        });
      },
    });
    pool = new McpConnectionPool({
      logger: createLogger('silent'),
      connectTimeoutMs: 5_000,
      onToolListChanged: (id) => {
        changed.push(id);
        onChanged.resolve();
      },
    });
    config = {
      id: 'server-1',
      name: 'test',
      url: server.url,
      transport: 'STREAMABLE_HTTP',
      secretHeaders: { 'X-Test-Key': 'k-1' },
      version: 'v1',
    };
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
  });

  it('lists and calls tools over one reused connection, with the configured headers', async () => {
    const tools = await pool.listTools(config);
    expect(tools.map((tool) => tool.name).sort()).toEqual(['add', 'hang']);
    const result = await pool.callTool(
      config,
      'add',
      { a: 2, b: 3 },
      {
        signal: new AbortController().signal,
        timeoutMs: 5_000,
      },
    );
    expect(toToolOutcome(result)).toEqual({ result: { content: '5' }, isError: false });
    const sessions = new Set(server.requests.map((headers) => headers['mcp-session-id']));
    // The initialize request has no session yet; everything after shares one.
    expect(sessions.size).toBe(2);
  });

  it('drops the cached tool list when the server says its tools changed', async () => {
    await pool.listTools(config);
    onChanged = deferred();
    for (const mcp of server.live) {
      mcp.registerTool('late', {}, () => ({ content: [{ type: 'text', text: 'late' }] }));
    }
    await onChanged.promise;
    expect(changed).toContain('server-1');
    const tools = await pool.listTools(config);
    expect(tools.map((tool) => tool.name)).toContain('late');
  });

  it('turns a call past its timeout into an error, and keeps the connection', async () => {
    await expect(
      pool.callTool(config, 'hang', {}, { signal: new AbortController().signal, timeoutMs: 200 }),
    ).rejects.toThrow(/No answer within/);
    const result = await pool.callTool(
      config,
      'add',
      { a: 1, b: 1 },
      {
        signal: new AbortController().signal,
        timeoutMs: 5_000,
      },
    );
    expect(toToolOutcome(result).result).toEqual({ content: '2' });
  });

  it('does not retry a server that could not be listed for a while, unless asked to', async () => {
    const down = { ...config, id: 'server-down', url: 'http://127.0.0.1:1/mcp' };
    await expect(pool.listTools(down)).rejects.toThrow(/Cannot reach the server/);
    await expect(pool.listTools(down)).rejects.toThrow(/not retried before/);
    await expect(pool.listTools(down, { refresh: true })).rejects.toThrow(
      /Cannot reach the server/,
    );
  });

  it('reports a refused connection (wrong credentials) as an error', async () => {
    await expect(
      pool.listTools({ ...config, id: 'server-2', secretHeaders: { 'X-Test-Key': 'wrong' } }),
    ).rejects.toThrow(/Cannot reach the server/);
  });
});

describe('MCP results and names', () => {
  it('summarises images and resources, keeps text and isError', () => {
    expect(
      toToolOutcome({
        content: [
          { type: 'text', text: 'chart:' },
          { type: 'image', mimeType: 'image/png', data: 'AAAA' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'hello' } },
          { type: 'resource', resource: { uri: 'file:///b.bin', blob: 'AAAA' } },
          { type: 'resource_link', uri: 'https://x.test/doc', name: 'doc' },
        ],
      }),
    ).toEqual({
      isError: false,
      result: {
        content:
          'chart:\n[image: image/png, 3 bytes]\n[resource file:///a.txt]\nhello\n' +
          '[resource file:///b.bin, binary]\n[resource link https://x.test/doc "doc"]',
      },
    });
    expect(toToolOutcome({ content: [{ type: 'text', text: 'boom' }], isError: true })).toEqual({
      isError: true,
      result: { error: 'boom' },
    });
  });

  it('an MCP server row or connection config logged by mistake shows no secret', () => {
    const lines: string[] = [];
    const logger = createLogger(
      'debug',
      {},
      { destination: { write: (line: string) => lines.push(line) } },
    );
    logger.warn('oops', {
      input: { apiKey: 'k-secret', customHeaders: [{ name: 'X-A', value: 'h-secret' }] },
      row: { apiKeyEncrypted: 'v1:a', customHeadersEncrypted: 'v1:b' },
      config: { secretHeaders: { Authorization: 'Bearer k-secret' } },
    });
    expect(lines.join('')).not.toMatch(/k-secret|h-secret|v1:/);
  });

  it('names tools <server>__<tool>, made valid, within 64 characters', () => {
    expect(exposedToolName('linear', 'create.issue')).toBe('linear__create_issue');
    expect(exposedToolName('linear', 'x'.repeat(60))).toBeNull();
  });
});
