import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../src/pubsub/index.js';
import type { Session } from '../../../src/server/sessions.js';
import { createChat, createDefaultModel } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { RawGraphQLSocket } from './websocket-raw.js';

/**
 * Issue #8, rows 6 and 7: a WebSocket must cost the server only what the limits allow, whoever
 * opens it. Sockets are authenticated in connection_init, frames are bounded, and subscriptions
 * per socket, sockets per user and bytes queued for a client that does not read are capped.
 */

const MB = 1024 * 1024;
const SOCKETS_PER_USER = 20;
const BUFFERED_BYTES = 256 * 1024;
const SUBSCRIPTIONS_PER_SOCKET = 100; // the default

const CHAT_LIST = 'subscription { chatListEvents { kind chatId } }';
const CHAT_EVENTS = `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) {
  __typename ... on MessagePartEvent { part { ... on TextPart { text } } } } }`;

describe('WebSocket limits (issue #8, rows 6 and 7)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        DAEMON_ENABLED: 'false',
        WS_MAX_SOCKETS_PER_USER: String(SOCKETS_PER_USER),
        WS_MAX_BUFFERED_BYTES: String(BUFFERED_BYTES),
      },
    });
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());

  const member = async () => {
    const created = await server.createMember();
    return { ...created, token: created.client.token! };
  };

  describe('authentication in connection_init', () => {
    it('closes a socket without a token, or with a bad one, with 4403 and never acknowledges it', async () => {
      for (const token of [null, 'agt_not-a-token']) {
        const socket = await RawGraphQLSocket.init(server.url, token);
        expect(await socket.closed).toMatchObject({ code: 4403 });
        expect(socket.acknowledged).toBe(false);
      }
    });

    it('closes a socket that subscribes before connection_init (4401), running nothing', async () => {
      const socket = await RawGraphQLSocket.connect(server.url);
      socket.subscribe('1', CHAT_LIST);
      expect(await socket.closed).toMatchObject({ code: 4401 });
      expect(socket.messages).toEqual([]);
    });

    it('acknowledges a socket with a valid token', async () => {
      const { token } = await member();
      const socket = await RawGraphQLSocket.init(server.url, token);
      expect(socket.acknowledged).toBe(true);
      await socket.close();
    });
  });

  it('closes 6 sockets that each send a 90 MB frame before connection_init (1009), without holding the frames', async () => {
    const rssBefore = process.memoryUsage().rss;
    const codes = await Promise.all(
      Array.from({ length: 6 }, () => sendHugeFrame(server.url, 90 * MB)),
    );
    expect(codes).toEqual(Array(6).fill(1009));
    // Before the fix ws buffered every frame whole (100 MiB default): 540 MB here. The client
    // side of this test sends from one 64 KiB chunk, so what grows is the server.
    const grownMb = (process.memoryUsage().rss - rssBefore) / MB;
    expect(grownMb).toBeLessThan(150);
    expect((await fetch(new URL('/healthz', server.url))).status).toBe(200);
  });

  it('refuses subscriptions past the per-socket cap with LIMIT_EXCEEDED; the first ones stay live', async () => {
    const { client, token } = await member();
    const probe = await createChat(client);
    const socket = await RawGraphQLSocket.init(server.url, token);
    const total = 20_000;
    const refusedIds = new Set<string>();
    socket.onMessage((message) => {
      const errors = message.payload as { extensions?: { code?: string } }[] | undefined;
      if (message.type === 'error' && errors?.[0]?.extensions?.code === 'LIMIT_EXCEEDED') {
        refusedIds.add(message.id!);
      }
    });
    for (let i = 0; i < total; i++) socket.subscribe(`s${i}`, CHAT_LIST);
    await socket.until(() => refusedIds.size === total - SUBSCRIPTIONS_PER_SOCKET, 60_000);
    expect(socket.isClosed).toBe(false);
    const accepted = Array.from({ length: SUBSCRIPTIONS_PER_SOCKET }, (_, i) => `s${i}`);
    expect(accepted.filter((id) => refusedIds.has(id))).toEqual([]);

    // The accepted ones are live: a change to the member's chats reaches every one of them.
    // chatListEvents sends nothing when it starts, so rename until all have seen an event.
    const liveIds = new Set<string>();
    socket.onMessage((message) => {
      if (message.type === 'next') liveIds.add(message.id!);
    });
    const live = () => liveIds.size;
    for (let attempt = 1; live() < accepted.length; attempt++) {
      await client.query(
        'mutation ($id: ID!, $t: String!) { updateChat(input: { id: $id, title: $t }) { id } }',
        {
          id: probe.id,
          t: `probe ${attempt}`,
        },
      );
      await socket
        .until(() => live() === accepted.length, 2_000)
        .catch(() => {
          if (attempt >= 10) throw new Error(`only ${live()} subscriptions live`);
        });
    }
    expect([...liveIds].sort()).toEqual([...accepted].sort());
    await socket.close();
  });

  it(`closes sockets of one user past ${SOCKETS_PER_USER} with 4429 (1000 tried); other users are unaffected`, async () => {
    const { id, token } = await member();
    const sockets: RawGraphQLSocket[] = [];
    for (let batch = 0; batch < 10; batch++) {
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () => RawGraphQLSocket.init(server.url, token)),
        )),
      );
    }
    const open = sockets.filter((socket) => socket.acknowledged && !socket.isClosed);
    expect(open).toHaveLength(SOCKETS_PER_USER);
    const refused = await Promise.all(
      sockets.filter((socket) => !socket.acknowledged).map((socket) => socket.closed),
    );
    expect(refused).toHaveLength(1000 - SOCKETS_PER_USER);
    expect(new Set(refused.map((close) => close.code))).toEqual(new Set([4429]));
    expect(server.app.sessions.countForUser(id)).toBe(SOCKETS_PER_USER);

    const other = await member();
    const otherSocket = await RawGraphQLSocket.init(server.url, other.token);
    expect(otherSocket.acknowledged).toBe(true);

    // The cap counts open sockets: closing one makes room for one more.
    await open[0]!.close();
    const again = await RawGraphQLSocket.init(server.url, token);
    expect(again.acknowledged).toBe(true);
    await Promise.all([...open.slice(1), again, otherSocket].map((socket) => socket.close()));
  });

  it('closes a socket whose client stops reading (1013) instead of buffering without bound', async () => {
    const { id, client, token } = await member();
    const chat = await createChat(client);
    const socket = await RawGraphQLSocket.init(server.url, token);
    const subscriptions = 10;
    for (let i = 0; i < subscriptions; i++)
      socket.subscribe(`c${i}`, CHAT_EVENTS, { chatId: chat.id });
    // Each subscription starts with the chat's status: all are subscribed to pub/sub by then.
    await socket.until(
      () =>
        new Set(socket.messages.filter((m) => m.type === 'next').map((m) => m.id)).size ===
        subscriptions,
    );
    const received = socket.messages.length;

    socket.socket.pause(); // ws's pause: stops reading the TCP socket until resume()
    const closing = new Promise<number>((resolve) =>
      server.app.sessions.events.on('closing', (session: Session, code: number) => {
        if (session.userId === id) resolve(code);
      }),
    );
    const text = 'x'.repeat(100 * 1024);
    const parts = 300; // 10 subscriptions × 300 × 100 KiB = 300 MB if nothing stopped it
    for (let seq = 0; seq < parts; seq++) {
      await server.app.deps.pubsub.publish(topics.chatEvents(chat.id), {
        __typename: 'MessagePartEvent',
        chatId: chat.id,
        messageId: null,
        role: 'ASSISTANT',
        part: { type: 'TEXT', text },
        seq,
      });
    }
    expect(await closing).toBe(1013);
    socket.socket.resume();
    expect(await socket.closed).toMatchObject({ code: 1013 });
    const delivered = socket.messages.length - received;
    expect(delivered).toBeLessThan(subscriptions * parts);
  });
});

/**
 * Upgrades a bare TCP connection to a WebSocket and starts one masked text frame that declares
 * `size` bytes, streaming zeros from one 64 KiB chunk; resolves with the close code the server
 * answers (parsed from its close frame), or null when the connection ends without one.
 */
function sendHugeFrame(httpUrl: string, size: number): Promise<number | null> {
  const url = new URL(httpUrl);
  const chunk = Buffer.alloc(64 * 1024);
  return new Promise((resolve) => {
    const tcp = connect(Number(url.port), url.hostname);
    let upgraded = false;
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      tcp.destroy();
      resolve(code);
    };
    tcp.on('error', () => finish(null));
    tcp.on('close', () => finish(null));
    tcp.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!received.subarray(0, 12).toString().includes('101')) return finish(null);
        upgraded = true;
        received = received.subarray(end + 4);
        startFrame();
      }
      // A close frame: 0x88, a 1-byte length, then the 2-byte code.
      if (received.length >= 4 && received[0] === 0x88) finish(received.readUInt16BE(2));
    });
    tcp.write(
      [
        `GET ${url.pathname} HTTP/1.1`,
        `Host: ${url.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Protocol: graphql-transport-ws',
        '',
        '',
      ].join('\r\n'),
    );
    function startFrame() {
      const header = Buffer.alloc(14);
      header[0] = 0x81; // FIN + text
      header[1] = 0x80 | 127; // masked, 64-bit length
      header.writeBigUInt64BE(BigInt(size), 2);
      // Mask key 0: the payload is sent as is.
      tcp.write(header);
      let sent = 0;
      const write = () => {
        while (!done && sent < size) {
          sent += chunk.length;
          if (!tcp.write(chunk)) return void tcp.once('drain', write);
        }
      };
      write();
    }
  });
}
