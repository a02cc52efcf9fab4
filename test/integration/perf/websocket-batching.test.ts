import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../src/pubsub/index.js';
import { createChat, createDefaultModel } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { RawGraphQLSocket } from '../../security/api/websocket-raw.js';

/**
 * Issue #9, on counts rather than the clock: the frames one event makes on one socket (here,
 * several subscriptions to the same chat) leave in one socket write, not one write per frame.
 * The writes are counted at the server's end of the TCP connection, whatever the machine's speed.
 */

const CHAT_EVENTS = `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) {
  __typename ... on MessagePartEvent { part { ... on TextPart { text } } } } }`;
const SUBSCRIPTIONS = 5;

/** Counts the writes node makes on the server's socket of the client at `clientPort`. */
function countServerWrites(clientPort: number) {
  const prototype = Socket.prototype as unknown as Record<
    '_write' | '_writev',
    (this: Socket, ...args: unknown[]) => void
  >;
  const original = { _write: prototype._write, _writev: prototype._writev };
  let writes = 0;
  for (const method of ['_write', '_writev'] as const) {
    prototype[method] = function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === clientPort) writes++;
      return original[method].apply(this, args);
    };
  }
  return {
    get writes() {
      return writes;
    },
    restore() {
      Object.assign(prototype, original);
    },
  };
}

describe('WebSocket frame batching (issue #9)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());

  it('writes the frames of one event to one socket in a single write', async () => {
    const { client } = await server.createMember();
    const chat = await createChat(client);
    const socket = await RawGraphQLSocket.init(server.url, client.token!);
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      socket.subscribe(`s${i}`, CHAT_EVENTS, { chatId: chat.id });
    }
    const received = (typename: string) =>
      socket.messages.filter(
        (m) =>
          m.type === 'next' &&
          (m.payload as { data?: { chatEvents?: { __typename?: string } } }).data?.chatEvents
            ?.__typename === typename,
      ).length;
    const publishPart = (seq: number) =>
      server.app.deps.pubsub.publish(topics.chatEvents(chat.id), {
        __typename: 'MessagePartEvent',
        chatId: chat.id,
        messageId: null,
        role: 'ASSISTANT',
        part: { type: 'TEXT', text: `part ${seq}` },
        seq,
      });
    await socket.until(() => received('MessageEvent') === SUBSCRIPTIONS);
    // A first part is not counted: a subscription may still be reading its snapshot (the status,
    // the messages, then the stream buffer) and would write that part later, on its own. Once
    // every subscription has delivered it, all five wait on their live queue.
    await publishPart(0);
    await socket.until(() => received('MessagePartEvent') === SUBSCRIPTIONS);

    const clientPort = (socket.socket as unknown as { _socket: Socket })._socket.localPort!;
    const counter = countServerWrites(clientPort);
    try {
      await publishPart(1);
      await socket.until(() => received('MessagePartEvent') === 2 * SUBSCRIPTIONS);
      expect(counter.writes).toBe(1);
    } finally {
      counter.restore();
    }
    await socket.close();
  });
});
