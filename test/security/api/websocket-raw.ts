import WebSocket from 'ws';

/**
 * A graphql-transport-ws client on a bare `ws` socket, for attacks the graphql-ws client would not
 * make (thousands of subscriptions on one socket, no connection_init, a client that stops
 * reading) and to see close codes as they are. Waits on messages and on the close, never on time.
 */
export interface ServerMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

export class RawGraphQLSocket {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters = new Set<() => void>();
  private listeners: ((message: ServerMessage) => void)[] = [];
  private closeInfo: { code: number; reason: string } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      this.messages.push(message);
      for (const listener of this.listeners) listener(message);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    // A refused upgrade or a reset after close: the close event still tells the outcome.
    socket.on('error', () => undefined);
  }

  /** Opens a socket on the GraphQL URL (http://…/graphql) with the graphql-transport-ws protocol. */
  static async connect(httpUrl: string): Promise<RawGraphQLSocket> {
    const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const raw = new RawGraphQLSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      void raw.closed.then(() => resolve());
    });
    return raw;
  }

  /**
   * Opens a socket and sends connection_init with `authorization: Bearer <token>` (none when
   * token is null); resolves once it is acknowledged or closed.
   */
  static async init(httpUrl: string, token: string | null): Promise<RawGraphQLSocket> {
    const raw = await RawGraphQLSocket.connect(httpUrl);
    raw.send({
      type: 'connection_init',
      payload: token ? { authorization: `Bearer ${token}` } : {},
    });
    await raw.until(() => raw.acknowledged || raw.isClosed);
    return raw;
  }

  get acknowledged() {
    return this.messages.some((message) => message.type === 'connection_ack');
  }

  get isClosed() {
    return this.closeInfo !== undefined;
  }

  /** Calls `listener` for every message from now on (for counting without rescanning). */
  onMessage(listener: (message: ServerMessage) => void) {
    this.listeners.push(listener);
  }

  send(message: Record<string, unknown>) {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}) {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** Resolves once `condition` holds, re-checked on every message and on close. */
  async until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms (${this.messages.length} messages)`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  close() {
    if (!this.isClosed) this.socket.close();
    return this.closed;
  }

  private wake() {
    for (const waiter of [...this.waiters]) waiter();
  }
}
