import { describe, expect, it } from 'vitest';
import { lastUserText, type ChatRequestBody } from '../../src/testing/fake-llm/index.js';
import type { EventStream } from '../support/client.js';
import { createGate, isTurn } from '../support/llm.js';
import {
  CHAT_EVENTS,
  createChat,
  isStatus,
  useReplicaCluster,
  textOf,
  type ChatEventData,
} from '../support/replica.js';

const CHATS = 10;

/** B9: two daemons on one database never run one chat twice. */
describe('replicas: never two workers on one chat (B9)', () => {
  // Small batches make the two daemons interleave their acquires on the same rows.
  const env = { CHAT_ACQUIRE_BATCH: '2' };

  const ctx = useReplicaCluster([
    { name: 'a', env },
    { name: 'b', env },
  ]);

  it('runs each of many chats created at once exactly once', async () => {
    const gate = createGate();
    const prompts = Array.from({ length: CHATS }, (_, index) => `task number ${index}`);
    // Every chat has its own answer, so a chat run twice or answered with another's script shows.
    ctx.cluster.llm.script(
      ...prompts.map((prompt, index) => ({
        match: (body: ChatRequestBody) => isTurn(body) && lastUserText(body) === prompt,
        gate: gate.promise,
        text: ['Answer ', `for ${index}`, '.'],
        chunkDelayMs: 5,
      })),
    );
    const clients = [ctx.cluster.replicas['a']!, ctx.cluster.replicas['b']!].map((replica) =>
      replica.client(ctx.cluster.memberToken),
    );
    const chatIds = await Promise.all(
      prompts.map((prompt, index) => createChat(clients[index % 2]!, prompt)),
    );
    const streams: EventStream<ChatEventData>[] = chatIds.map((chatId, index) =>
      clients[(index + 1) % 2]!.subscribe<ChatEventData>(CHAT_EVENTS, { chatId }),
    );
    try {
      // Both daemons compete for the batch while every turn is held at the model.
      await ctx.cluster.llm.waitForRequests(CHATS, 20_000);
      const running = await ctx.cluster.db.query<{ worker_id: string }>(
        `SELECT worker_id FROM chats WHERE id = ANY($1::uuid[]) AND status = 'RUNNING'`,
        [chatIds],
      );
      expect(running.rows).toHaveLength(CHATS);
      const workers = running.rows.map((row) => row.worker_id);
      // Both daemons took part (each holds some of the chats), so they really competed.
      expect(new Set(workers)).toEqual(new Set(['worker-a', 'worker-b']));
      gate.open();
      await Promise.all(streams.map((stream) => stream.waitFor(isStatus('WAITING'))));

      for (const [index, chatId] of chatIds.entries()) {
        const streamed = streams[index]!.events.map((event) => event.chatEvents.message).filter(
          (message) => message !== undefined,
        );
        expect(streamed.map((message) => message.role)).toEqual(['USER', 'ASSISTANT']);
        expect(textOf(streamed[1]!.parts)).toBe(`Answer for ${index}.`);

        const rows = await ctx.cluster.messages(chatId);
        expect(rows.map((row) => row.role)).toEqual(['USER', 'ASSISTANT']);
        expect(textOf(rows[1]!.parts)).toBe(`Answer for ${index}.`);
        // Acquired once: the lease counter is bumped at every acquire.
        expect(await ctx.cluster.chat(chatId)).toEqual({
          status: 'WAITING',
          workerId: null,
          leaseEpoch: 1,
        });
      }
      const turnRequests = ctx.cluster.llm.requests.filter((request) => request.stream);
      expect(turnRequests.map((request) => lastUserText(request.body)).sort()).toEqual(
        [...prompts].sort(),
      );
      expect(ctx.cluster.llm.pending()).toBe(0);
      const duplicates = await ctx.cluster.db.query(
        `SELECT chat_id, role, parts::text, count(*) FROM chat_messages
         GROUP BY chat_id, role, parts::text HAVING count(*) > 1`,
      );
      expect(duplicates.rows).toEqual([]);
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
  });
});
