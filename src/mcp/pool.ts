import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';

import type { Logger } from '../logger.js';

/**
 * This replica's connections to MCP servers (issue #12), one per server, reused by every turn and
 * by the admin's `mcpServerTools`. A server's tool list is cached briefly and dropped as soon as
 * the server sends notifications/tools/list_changed. A connection that fails (the server went
 * away, its session expired) is dropped, so the next call connects again; a changed config (a new
 * `version`) replaces the connection. Connections unused for IDLE_CLOSE_MS are closed lazily.
 */
export interface McpConnectionConfig {
  id: string;
  /** The server's slug, for log lines. */
  name: string;
  url: string;
  transport: 'STREAMABLE_HTTP' | 'SSE';
  /**
   * Decrypted authentication headers: never log them (the name makes the logger redact them if
   * a config is ever logged by mistake).
   */
  secretHeaders: Record<string, string>;
  /** Changes whenever the config does (its updatedAt), so a stale connection is replaced. */
  version: string;
}

export interface McpPoolOptions {
  logger: Logger;
  /** Longest connect + initialize, and longest tools/list. */
  connectTimeoutMs: number;
  /** How long a tool list is reused without asking the server. Default 60 s. */
  toolListTtlMs?: number;
  /** Why a URL may not be connected to (network policy, checked at every connect), or null. */
  checkUrl?: (url: string) => Promise<string | null>;
  /** Called when a server says its tools changed (after the cached list is dropped). */
  onToolListChanged?: (serverId: string) => void;
}

export const DEFAULT_TOOL_LIST_TTL_MS = 60_000;
/** A connection no turn used for this long is closed when the pool is next used. */
export const IDLE_CLOSE_MS = 10 * 60_000;
/**
 * After a server could not be listed, turns leave it out for this long without trying again: a
 * server that is down must not add its connect timeout to every turn. The admin's check
 * (`refresh`) always tries.
 */
export const RETRY_AFTER_FAILURE_MS = 30_000;
/** tools/list pages read at most; a server offering more tools than that is cut short. */
const MAX_TOOL_PAGES = 20;
const CLIENT_INFO = { name: 'agentgraph', version: '1.0.0' };

interface Connection {
  version: string;
  client: Promise<Client>;
  tools: { list: McpTool[]; expiresAt: number } | null;
  lastUsedAt: number;
  closed: boolean;
}

/** A failure talking to an MCP server, in words for the model and the log (no secrets). */
export class McpCallError extends Error {
  override name = 'McpCallError';
}

export class McpConnectionPool {
  private readonly connections = new Map<string, Connection>();
  /** Server id → until when listing it is not tried again, and why it failed. */
  private readonly failures = new Map<string, { until: number; message: string }>();
  private closed = false;

  constructor(private readonly options: McpPoolOptions) {}

  /** The server's tools: cached, or asked for (`refresh` always asks). */
  async listTools(
    config: McpConnectionConfig,
    options: { signal?: AbortSignal; refresh?: boolean } = {},
  ): Promise<McpTool[]> {
    const failure = this.failures.get(config.id);
    if (!options.refresh && failure && failure.until > Date.now()) {
      throw new McpCallError(
        `${failure.message} (not retried before ${new Date(failure.until).toISOString()})`,
      );
    }
    const connection = this.connection(config);
    if (!options.refresh && connection.tools && connection.tools.expiresAt > Date.now()) {
      return connection.tools.list;
    }
    try {
      const client = await untilAborted(connection.client, options.signal);
      const list: McpTool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await client.listTools(cursor === undefined ? {} : { cursor }, {
          signal: options.signal,
          timeout: this.options.connectTimeoutMs,
        });
        list.push(...result.tools);
        cursor = result.nextCursor;
        if (!cursor) break;
      }
      this.failures.delete(config.id);
      if (!connection.closed) {
        connection.tools = {
          list,
          expiresAt: Date.now() + (this.options.toolListTtlMs ?? DEFAULT_TOOL_LIST_TTL_MS),
        };
      }
      return list;
    } catch (error) {
      const reported = this.failed(
        config,
        connection,
        error,
        this.options.connectTimeoutMs,
        options.signal,
      );
      if (reported instanceof McpCallError && !options.signal?.aborted) {
        this.failures.set(config.id, {
          until: Date.now() + RETRY_AFTER_FAILURE_MS,
          message: reported.message,
        });
      }
      throw reported;
    }
  }

  /** Calls one tool; aborting `signal` cancels the call (the server is told). */
  async callTool(
    config: McpConnectionConfig,
    toolName: string,
    args: Record<string, unknown>,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<CallToolResult> {
    const connection = this.connection(config);
    try {
      const client = await untilAborted(connection.client, options.signal);
      const result = await client.callTool({ name: toolName, arguments: args }, undefined, {
        signal: options.signal,
        timeout: options.timeoutMs,
      });
      return result as CallToolResult;
    } catch (error) {
      throw this.failed(config, connection, error, options.timeoutMs, options.signal);
    }
  }

  /** Closes a server's connection now (its config changed or it was deleted). */
  drop(serverId: string) {
    this.failures.delete(serverId);
    const connection = this.connections.get(serverId);
    if (connection) this.closeConnection(serverId, connection);
  }

  async close() {
    this.closed = true;
    const all = [...this.connections.entries()];
    await Promise.all(all.map(([id, connection]) => this.closeConnection(id, connection)));
  }

  private connection(config: McpConnectionConfig): Connection {
    if (this.closed) throw new McpCallError('The MCP connection pool is closed');
    const now = Date.now();
    for (const [id, idle] of this.connections) {
      if (id !== config.id && now - idle.lastUsedAt > IDLE_CLOSE_MS) {
        void this.closeConnection(id, idle);
      }
    }
    const existing = this.connections.get(config.id);
    if (existing && existing.version === config.version && !existing.closed) {
      existing.lastUsedAt = now;
      return existing;
    }
    if (existing) void this.closeConnection(config.id, existing);
    const connection: Connection = {
      version: config.version,
      client: Promise.resolve(null as unknown as Client),
      tools: null,
      lastUsedAt: now,
      closed: false,
    };
    connection.client = this.connect(config, connection);
    // A failed connect is reported to whoever awaits it; this only keeps it from being unhandled.
    connection.client.catch(() => undefined);
    this.connections.set(config.id, connection);
    return connection;
  }

  private async connect(config: McpConnectionConfig, connection: Connection): Promise<Client> {
    const refused = await this.options.checkUrl?.(config.url);
    if (refused) throw new McpCallError(`The server's URL is refused: ${refused}`);
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      connection.tools = null;
      this.options.logger.debug('MCP tool list changed', { mcpServer: config.name });
      this.options.onToolListChanged?.(config.id);
    });
    client.onclose = () => {
      connection.closed = true;
      if (this.connections.get(config.id) === connection) this.connections.delete(config.id);
    };
    // Transport errors also reject the request they belong to; the rest (a dropped GET stream
    // that the transport reconnects) is only worth a debug line.
    client.onerror = (error) =>
      this.options.logger.debug('MCP transport error', {
        mcpServer: config.name,
        error: error.message,
      });
    const url = new URL(config.url);
    const requestInit = { headers: config.secretHeaders };
    const transport: Transport =
      config.transport === 'SSE'
        ? new SSEClientTransport(url, { requestInit })
        : new StreamableHTTPClientTransport(url, {
            requestInit,
            // A server that went away is reported at the next call; no background retries.
            reconnectionOptions: {
              maxRetries: 0,
              initialReconnectionDelay: 1_000,
              maxReconnectionDelay: 1_000,
              reconnectionDelayGrowFactor: 1,
            },
          });
    const timeoutMs = this.options.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(transport, { timeout: timeoutMs }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new McpError(ErrorCode.RequestTimeout, 'connect timed out')),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** Drops the connection unless the failure was the server's answer; returns what to throw. */
  private failed(
    config: McpConnectionConfig,
    connection: Connection,
    error: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): unknown {
    // The caller stopped waiting (an interrupted turn): the connection itself is fine.
    if (signal?.aborted || isAbort(error)) return error;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      // A slow call is not a broken connection, but a connect that timed out is.
      if (connection.tools === null) this.closeConnection(config.id, connection);
      return new McpCallError(`No answer within ${Math.round(timeoutMs / 1000)} s`);
    }
    if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
      return new McpCallError(error.message);
    }
    this.closeConnection(config.id, connection);
    if (error instanceof McpCallError) return error;
    return new McpCallError(`Cannot reach the server: ${errorChain(error)}`);
  }

  private async closeConnection(serverId: string, connection: Connection) {
    connection.closed = true;
    if (this.connections.get(serverId) === connection) this.connections.delete(serverId);
    const client = await connection.client.catch(() => null);
    await client?.close().catch(() => undefined);
  }
}

/** The message of an error and of its causes (fetch failures hide the reason in `cause`). */
function errorChain(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 3; depth++) {
    messages.push(current.message);
    current = current.cause;
  }
  return messages.length > 0 ? messages.join(': ') : String(error);
}

function isAbort(error: unknown) {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** Waits for a shared promise, but stops waiting (rejecting) when this caller's signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function abortError() {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}
