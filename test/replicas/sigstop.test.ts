import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../support/backend.js';
import { createGate, isTurn } from '../support/llm.js';
import {
  CHAT_EVENTS,
  isPart,
  isStatus,
  REPLICA_INTERVALS,
  startReplicaCluster,
  textOf,
  type ChatEventData,
  type ReplicaCluster,
} from '../support/replica.js';

/**
 * B9: a worker paused past stale-after (SIGSTOP stands in for a long GC pause or a frozen VM)
 * loses the chat to another replica; when it wakes up, nothing it writes lands — not in the
 * database, and not in the stream of parts subscribers see.
 */
describe('replicas: SIGSTOP past stale-after (B9)', () => {
  let cluster: ReplicaCluster;
  let redis: Redis;

  beforeAll(async () => {
    cluster = await startReplicaCluster([{ name: 'a' }, { name: 'b' }]);
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.close();
  });

  it('a worker woken after losing its chat writes nothing', async () => {
    const release = createGate();
    const zombieChunks = ['Before ', 'the ', 'pause, ', 'after ', 'the ', 'pause.'];
    const survivorChunks = ['Taken ', 'over.'];
    cluster.llm.script(
      {
        match: isTurn,
        text: zombieChunks,
        holdAfterChunks: 3,
        release: release.promise,
        toolCalls: [{ id: 'call_zombie', name: 'current_time', args: {} }],
      },
      { match: isTurn, text: survivorChunks },
    );
    const { chatId, leaseEpoch, victim, survivor } = await cluster.startOwnedChat('Pause me');
    const stream = survivor.client(cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, {
      chatId,
    });
    try {
      const zombiePart = await stream.waitFor(
        (event) => isPart(event) && event.chatEvents.part?.text === zombieChunks[1],
      );
      const zombieMessageId = zombiePart.chatEvents.messageId!;

      victim.kill('SIGSTOP');
      // Stays stopped while the chat goes stale, is recovered and finished by the survivor.
      const finished = await cluster.waitForChat(
        chatId,
        (chat) => chat.status === 'WAITING',
        REPLICA_INTERVALS.CHAT_STALE_AFTER_MS * 6,
      );
      expect(finished).toEqual({ status: 'WAITING', workerId: null, leaseEpoch: leaseEpoch + 1 });
      await stream.waitFor(isStatus('WAITING'));
      const settledMessages = await cluster.messages(chatId);
      expect(settledMessages.map((row) => row.role)).toEqual(['USER', 'ASSISTANT']);
      expect(textOf(settledMessages[1]!.parts)).toBe(survivorChunks.join(''));
      const settledEvents = stream.events.length;

      // Wake it up and let its model answer go on: the rest of the text and a tool call.
      victim.kill('SIGCONT');
      release.open();
      await victim.waitForLog(
        (line) => line.msg === 'turn stopped: chat no longer owned' && line['chatId'] === chatId,
        REPLICA_INTERVALS.CHAT_STALE_AFTER_MS * 4,
      );

      // Nothing landed in the database.
      expect(await cluster.messages(chatId)).toEqual(settledMessages);
      expect(await cluster.chat(chatId)).toEqual(finished);
      // Nothing landed in the stream either. Redis delivers in publish order, so once a later
      // event (this rename) reaches the subscriber, anything the zombie published would have too.
      await survivor
        .client(cluster.memberToken)
        .query(`mutation ($id: ID!) { updateChat(input: { id: $id, title: "t" }) { id } }`, {
          id: chatId,
        });
      await stream.waitFor((event) => event.chatEvents.__typename === 'TitleEvent');
      const afterWake = stream.events.slice(settledEvents).map((event) => event.chatEvents);
      expect(afterWake.filter((event) => event.__typename !== 'TitleEvent')).toEqual([]);
      expect(await redis.lrange(`agentgraph:chat:${chatId}:parts`, 0, -1)).toEqual([]);
      const fresh = survivor.client(cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, {
        chatId,
      });
      try {
        await fresh.waitFor(isStatus('WAITING'));
        await fresh.waitFor((event) => event.chatEvents.message?.role === 'ASSISTANT');
        expect(fresh.events.filter(isPart)).toEqual([]);
      } finally {
        await fresh.close();
      }
      expect(settledMessages.map((row) => row.id)).not.toContain(zombieMessageId);
      // The zombie's tool call never ran against the model again either.
      expect(cluster.llm.requests.filter((request) => request.stream)).toHaveLength(2);
      // It is still a healthy replica afterwards.
      expect(victim.logs().some((line) => line.level === 'error')).toBe(false);
    } finally {
      await stream.close();
    }
  });
});
