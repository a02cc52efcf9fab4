import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * A real MCP server for tests, built on the SDK's server side and served over real HTTP on port 0:
 * Streamable HTTP (stateful, one McpServer per session) or the older HTTP + SSE transport. Every
 * session gets the tools `setup` registers; `live` holds the sessions' servers so a test can add a
 * tool (the SDK then sends notifications/tools/list_changed). Request headers are recorded, and
 * `requiredHeaders` answers 401 without them.
 */
export interface McpTestServer {
  url: string;
  /** Headers of every HTTP request received. */
  requests: IncomingHttpHeaders[];
  /** The McpServer of every open session. */
  live: Set<McpServer>;
  /** Stops answering: closes sessions, sockets and the port (a server that went away). */
  close(): Promise<void>;
}

export interface McpTestServerOptions {
  transport: 'STREAMABLE_HTTP' | 'SSE';
  setup(server: McpServer): void;
  requiredHeaders?: Record<string, string>;
}

export async function startMcpTestServer(options: McpTestServerOptions): Promise<McpTestServer> {
  const requests: IncomingHttpHeaders[] = [];
  const live = new Set<McpServer>();
  const transports = new Map<string, Transport & { sessionId?: string }>();

  const newSession = async (transport: Transport) => {
    const server = new McpServer({ name: 'agentgraph-test', version: '1.0.0' });
    options.setup(server);
    live.add(server);
    server.server.onclose = () => live.delete(server);
    await server.connect(transport);
  };

  const http: Server = createServer((req, res) => {
    requests.push(req.headers);
    for (const [name, value] of Object.entries(options.requiredHeaders ?? {})) {
      if (req.headers[name.toLowerCase()] !== value) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorised');
        return;
      }
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const fail = (error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    };
    if (options.transport === 'SSE') {
      if (req.method === 'GET' && path === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        transport.onclose = () => transports.delete(transport.sessionId);
        newSession(transport).catch(fail);
        return;
      }
      const sessionId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('sessionId');
      const transport = sessionId ? transports.get(sessionId) : undefined;
      if (req.method === 'POST' && path === '/messages' && transport) {
        (transport as SSEServerTransport).handlePostMessage(req, res).catch(fail);
        return;
      }
      res.writeHead(404).end();
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (existing) {
      (existing as StreamableHTTPServerTransport).handleRequest(req, res).catch(fail);
      return;
    }
    if (sessionId !== undefined || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) transports.delete(transport.sessionId);
    };
    newSession(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(fail);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: options.transport === 'SSE' ? `${base}/sse` : `${base}/mcp`,
    requests,
    live,
    async close() {
      await Promise.all([...transports.values()].map((transport) => transport.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A promise with its resolve, for a tool handler to report that it ran. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}
