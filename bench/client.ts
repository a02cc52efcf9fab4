import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * The bench's GraphQL clients: plain HTTP for mutations, one real graphql-ws connection per
 * watched chat (as a browser tab would have), with every event timestamped on arrival.
 */

export class Gql {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`GraphQL HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    if (body.errors?.length) {
      const errors = body.errors.map((e) => `${e.extensions?.code ?? '?'}: ${e.message}`);
      throw new Error(`GraphQL errors: ${errors.join('; ')}`);
    }
    return body.data as T;
  }

  async createChat(text: string): Promise<string> {
    const data = await this.query<{ createChat: { id: string } }>(
      'mutation ($text: String!) { createChat(input: { text: $text }) { id } }',
      { text },
    );
    return data.createChat.id;
  }

  async sendMessage(chatId: string, text: string): Promise<void> {
    await this.query(
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { chat { id } } }',
      {
        input: { chatId, text },
      },
    );
  }
}

const CHAT_EVENTS = `subscription ($chatId: ID!) {
  chatEvents(chatId: $chatId) {
    __typename
    ... on StatusEvent { status lastError }
    ... on MessagePartEvent { messageId part { type ... on TextPart { text } } }
    ... on MessageEvent { message { role parts { type ... on TextPart { text } } } }
  }
}`;

interface ChatEvent {
  __typename: string;
  status?: string;
  lastError?: string | null;
  messageId?: string | null;
  part?: { type: string; text?: string | null };
  message?: { role: string; parts: { type: string; text?: string | null }[] };
}

/** graphql-ws reports a closed socket as a CloseEvent, errors as GraphQL error arrays. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'code' in error) {
    const close = error as { code: unknown; reason?: unknown };
    return `socket closed ${String(close.code)} ${String(close.reason ?? '')}`;
  }
  return JSON.stringify(error);
}

/** What one subscriber saw of one turn; times are performance.now() in this process. */
export interface TurnTrace {
  sentAt: number;
  pendingAt?: number;
  runningAt?: number;
  firstPartAt?: number;
  lastPartAt?: number;
  doneAt?: number;
  /** MessagePartEvents received (counted here, never derived from the script). */
  parts: number;
  /** Concatenated TEXT deltas. */
  text: string;
  /** TEXT of the last ASSISTANT MessageEvent (the persisted answer, as a subscriber got it). */
  messageText?: string;
  /** Set when the turn ended in ERROR or PAUSED (then doneAt is when it did). */
  error?: string;
}

/** One chat's `chatEvents` subscription on one replica. */
export class ChatWatch {
  status: string | undefined;
  trace: TurnTrace | undefined;
  private readonly client: Client;
  private waiters: (() => void)[] = [];
  private failure: string | undefined;

  constructor(
    url: string,
    token: string,
    readonly chatId: string,
  ) {
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    this.client.subscribe<{ chatEvents: ChatEvent }>(
      { query: CHAT_EVENTS, variables: { chatId } },
      {
        next: (value) => {
          if (value.errors?.length) this.fail(JSON.stringify(value.errors));
          if (value.data) this.onEvent(value.data.chatEvents, performance.now());
        },
        error: (error) => this.fail(describeError(error)),
        complete: () => this.fail('subscription completed'),
      },
    );
  }

  private fail(reason: string) {
    this.failure ??= `chat ${this.chatId}: ${reason}`;
    this.wake();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private onEvent(event: ChatEvent, now: number) {
    const trace = this.trace;
    if (event.__typename === 'StatusEvent') {
      this.status = event.status;
      if (trace) {
        if (event.status === 'PENDING') trace.pendingAt ??= now;
        if (event.status === 'RUNNING') trace.runningAt ??= now;
        // A WAITING before this turn started running is the previous turn's, not this one's.
        const started = trace.runningAt !== undefined || trace.parts > 0;
        if (event.status === 'WAITING' && started) trace.doneAt ??= now;
        // A failed turn has ended too: the run counts it as failed rather than wait forever.
        if (event.status === 'ERROR' || event.status === 'PAUSED') {
          trace.error ??= `${event.status}: ${event.lastError ?? ''}`;
          trace.doneAt ??= now;
        }
      }
    } else if (
      event.__typename === 'MessageEvent' &&
      trace &&
      event.message?.role === 'ASSISTANT'
    ) {
      trace.messageText = event.message.parts
        .filter((part) => part.type === 'TEXT')
        .map((part) => part.text ?? '')
        .join('');
    } else if (event.__typename === 'MessagePartEvent' && trace) {
      trace.parts++;
      trace.firstPartAt ??= now;
      trace.lastPartAt = now;
      if (event.part?.type === 'TEXT') trace.text += event.part.text ?? '';
    }
    this.wake();
  }

  /** Starts tracing a turn whose message is about to be sent. */
  begin(sentAt = performance.now()): TurnTrace {
    this.trace = { sentAt, parts: 0, text: '' };
    return this.trace;
  }

  /** Resolves once `predicate` holds; rejects on a failed subscription or timeout. */
  async until(predicate: (watch: ChatWatch) => boolean, what: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.failure) throw new Error(this.failure);
      if (predicate(this)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`chat ${this.chatId}: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The subscription is live once its first event (the chat's status) arrived. */
  ready(timeoutMs: number) {
    return this.until((watch) => watch.status !== undefined, 'the first status', timeoutMs);
  }

  async done(timeoutMs: number): Promise<TurnTrace> {
    await this.until(
      (watch) => watch.trace?.doneAt !== undefined,
      'the end of the turn',
      timeoutMs,
    );
    return this.trace!;
  }

  close() {
    // Disposing a socket whose server is gone rejects with the socket's ErrorEvent: expected.
    void Promise.resolve(this.client.dispose()).catch(() => undefined);
  }
}
