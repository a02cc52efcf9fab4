import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTurn } from '../../support/llm.js';
import {
  CHAT_EVENTS,
  createChat,
  isMessage,
  isStatus,
  spawnReplica,
  startReplicaCluster,
  textOf,
  type ChatEventData,
  type Replica,
  type ReplicaCluster,
} from '../../support/replica.js';
import { SendMessageMutation } from '../../support/operations.js';

/**
 * Issue #8 row 5: Redis can blink. A private redis-server (its own port, no persistence) serves
 * one real server process; the test stops it under a connected subscriber, unsubscribes, runs a
 * turn, then restarts it on the same port.
 */

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server on `port` and resolves once it accepts connections. */
async function startRedis(port: number): Promise<PrivateRedis> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Like a crash: no goodbye to the clients.
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function readyz(replica: Replica): Promise<number> {
  const response = await fetch(replica.url.replace(/\/graphql$/, '/readyz'));
  return response.status;
}

const lostLog = (connection: string) => (line: { msg: string; connection?: unknown }) =>
  line.msg.startsWith('Redis connection lost') && line.connection === connection;

describe('security: Redis faults are survivable (issue #8, row 5)', () => {
  let cluster: ReplicaCluster;
  let redis: PrivateRedis;
  let port: number;
  let server: Replica;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    cluster = await startReplicaCluster([{ name: 'blink', env: { REDIS_URL: redis.url } }]);
    server = cluster.replicas['blink']!;
  });
  afterAll(async () => {
    await cluster?.close();
    await redis?.stop();
  });

  it('keeps serving and running turns while Redis is down, and subscribers resume after', async () => {
    const member = server.client(cluster.memberToken);
    cluster.llm.script({ match: isTurn, text: ['Before ', 'the outage.'] });
    const chatId = await createChat(member, 'first');
    // Two subscribers: one leaves during the outage, one stays connected through it.
    const leaving = member.subscribe<ChatEventData>(CHAT_EVENTS, { chatId });
    const staying = member.subscribe<ChatEventData>(CHAT_EVENTS, { chatId });
    await leaving.waitFor(isStatus('WAITING'));
    await staying.waitFor(isStatus('WAITING'));
    const exitedEarly = server.exited.then(() => true);

    await redis.stop();
    await server.waitForLog(lostLog('subscriber'));
    await server.waitForLog(lostLog('publisher'));
    // The client unsubscribes while Redis is gone (this crashed the process before).
    await leaving.close();

    expect(await readyz(server)).toBe(503);

    // A turn runs and finishes: its publishes fail softly, the database stays the truth.
    cluster.llm.script({ match: isTurn, text: ['During ', 'the outage.'] });
    await member.query(SendMessageMutation, { input: { chatId, text: 'second' } });
    await cluster.waitForChat(chatId, (chat) => chat.status === 'WAITING' && !chat.workerId);
    const during = await cluster.messages(chatId);
    expect(during.map((message) => `${message.role}:${textOf(message.parts)}`)).toEqual([
      'USER:first',
      'ASSISTANT:Before the outage.',
      'USER:second',
      'ASSISTANT:During the outage.',
    ]);
    // One warning for the dropped publishes, not one per publish.
    expect(
      server.logs().filter((line) => line.msg.startsWith('Redis unavailable: dropping')),
    ).toHaveLength(1);
    expect(await Promise.race([exitedEarly, Promise.resolve(false)])).toBe(false);

    redis = await startRedis(port);
    await server.waitForLog(
      (line) => line.msg === 'Redis connection restored' && line.connection === 'subscriber',
    );
    await server.waitForLog(
      (line) => line.msg === 'Redis connection restored' && line.connection === 'publisher',
    );
    expect(await readyz(server)).toBe(200);

    // The subscriber that stayed re-reads what it missed once pub/sub resumes ...
    await staying.waitFor(
      (event) =>
        isMessage(event) && textOf(event.chatEvents.message!.parts) === 'During the outage.',
    );
    // ... and receives live events again, as does a new one.
    const fresh = member.subscribe<ChatEventData>(CHAT_EVENTS, { chatId });
    try {
      await fresh.waitFor(isStatus('WAITING'));
      cluster.llm.script({ match: isTurn, text: ['After ', 'the outage.'] });
      await member.query(SendMessageMutation, { input: { chatId, text: 'third' } });
      for (const stream of [staying, fresh]) {
        await stream.waitFor(
          (event) =>
            isMessage(event) && textOf(event.chatEvents.message!.parts) === 'After the outage.',
        );
      }
      expect(staying.errors).toEqual([]);
    } finally {
      await fresh.close();
      await staying.close();
    }
    expect(await Promise.race([exitedEarly, Promise.resolve(false)])).toBe(false);
  });

  it('names REDIS_URL when Redis is unreachable at start', async () => {
    const closedPort = await freePort();
    const url = `redis://:hunter2hunter2@127.0.0.1:${closedPort}`;
    const started = spawnReplica({ ...cluster.env, REDIS_URL: url, DAEMON_ENABLED: 'false' });
    const failure = await started.then(
      () => new Error('the server started without Redis'),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toContain(`REDIS_URL=redis://:***@127.0.0.1:${closedPort}`);
    expect(failure.message).not.toContain('hunter2');
    expect(failure.message).not.toContain('Connection is closed');
  });
});
