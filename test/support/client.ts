import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * GraphQL over real HTTP and real graphql-ws WebSockets, for tests. Operations are either typed
 * documents (from test/generated, see codegen.ts) or plain strings.
 */
export type Operation<Result, Variables> =
  TypedDocumentNode<Result, Variables> | DocumentNode | string;
type Vars = Record<string, unknown>;

export interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: GraphQLFormattedError[];
}

const source = (operation: Operation<unknown, unknown>) =>
  typeof operation === 'string' ? operation : print(operation);

export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLFormattedError[]) {
    super(
      errors.map((error) => `${String(error.extensions?.['code'])}: ${error.message}`).join('; '),
    );
  }
}

export class TestClient {
  constructor(
    readonly httpUrl: string,
    readonly token: string | null,
  ) {}

  withToken(token: string | null) {
    return new TestClient(this.httpUrl, token);
  }

  async request<Result = Record<string, unknown>, Variables extends Vars = Vars>(
    operation: Operation<Result, Variables>,
    variables?: Variables,
  ): Promise<GraphQLResponse<Result>> {
    const response = await fetch(this.httpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({ query: source(operation), variables }),
    });
    return (await response.json()) as GraphQLResponse<Result>;
  }

  /** Returns data; throws GraphQLRequestError when the response has errors. */
  async query<Result = Record<string, unknown>, Variables extends Vars = Vars>(
    operation: Operation<Result, Variables>,
    variables?: Variables,
  ): Promise<Result> {
    const result = await this.request(operation, variables);
    if (result.errors?.length) throw new GraphQLRequestError(result.errors);
    return result.data as Result;
  }

  /** Expects the operation to fail; returns the error codes (and the errors themselves). */
  async expectError<Result = unknown, Variables extends Vars = Vars>(
    operation: Operation<Result, Variables>,
    variables?: Variables,
  ): Promise<{ codes: string[]; errors: GraphQLFormattedError[] }> {
    const result = await this.request(operation, variables);
    if (!result.errors?.length) {
      throw new Error(`Expected an error, got data ${JSON.stringify(result.data)}`);
    }
    return {
      codes: result.errors.map((error) => String(error.extensions?.['code'])),
      errors: result.errors,
    };
  }

  /** Opens a graphql-ws connection (one per call; close it with the returned stream's close). */
  subscribe<Result = Record<string, unknown>, Variables extends Vars = Vars>(
    operation: Operation<Result, Variables>,
    variables?: Variables,
  ): EventStream<Result> {
    const client = createClient({
      url: this.httpUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    return new EventStream<Result>(client, source(operation), variables ?? {});
  }
}

/**
 * Collects a subscription's events and lets a test wait for the next one that matches —
 * waiting on events, never on time.
 */
export class EventStream<Result> {
  readonly events: Result[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private waiters: Array<() => void> = [];
  private readonly dispose: () => void;
  private cursor = 0;

  constructor(
    private readonly client: Client,
    query: string,
    variables: Vars,
  ) {
    this.dispose = client.subscribe<Result>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors?.length) this.errors.push(...value.errors);
          if (value.data) this.events.push(value.data as Result);
          this.wake();
        },
        error: (error) => {
          this.errors.push(error);
          this.completed = true;
          this.wake();
        },
        complete: () => {
          this.completed = true;
          this.wake();
        },
      },
    );
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private changed(timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits for the first event after the previously consumed one that matches; consumes up to it. */
  async next(
    predicate: (event: Result) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Result> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.events.length) {
        const event = this.events[this.cursor++] as Result;
        if (predicate(event)) return event;
      }
      if (this.completed || this.errors.length > 0) {
        throw new Error(`Subscription ended: ${JSON.stringify(this.errors)}`);
      }
      await this.changed(Math.max(1, deadline - Date.now()), () => 'a matching event');
    }
  }

  /** Waits until some event (consumed or not) matches, without moving the cursor. */
  async waitFor(predicate: (event: Result) => boolean, timeoutMs = 20_000): Promise<Result> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (this.completed || this.errors.length > 0) {
        throw new Error(`Subscription ended: ${JSON.stringify(this.errors)}`);
      }
      await this.changed(Math.max(1, deadline - Date.now()), () => 'a matching event');
    }
  }

  /** Waits for the subscription to end with an error, and returns it. */
  async error(timeoutMs = 20_000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.errors.length === 0) {
      await this.changed(Math.max(1, deadline - Date.now()), () => 'a subscription error');
    }
    return this.errors;
  }

  async close() {
    this.dispose();
    await this.client.dispose();
  }
}
