import { describe, expect, it } from 'vitest';
import { createGate, isTurn } from '../support/llm.js';
import {
  CHAT_EVENTS,
  expectFinishedAfterOneTakeover,
  isPart,
  isStatus,
  REPLICA_INTERVALS,
  useReplicaCluster,
  textOf,
  type ChatEventData,
} from '../support/replica.js';

/** B9: a replica killed mid-turn; the other recovers the chat once it is stale and finishes it. */
describe('replicas: kill -9 mid-turn (B9)', () => {
  // Each provider chunk is its own part here (the test follows the retry's parts one by one);
  // with the default window (B14) two chunks released together may be merged into one part.
  const unmerged = { CHAT_STREAM_COALESCE_MS: '0' };
  const ctx = useReplicaCluster([
    { name: 'a', env: unmerged },
    { name: 'b', env: unmerged },
  ]);

  it('the surviving replica takes the stale lease over (next epoch) and finishes the chat, persisting nothing twice', async () => {
    const never = createGate();
    const retryHeld = createGate();
    const retryChunks = ['Recovered ', 'and ', 'finished.'];
    ctx.cluster.llm.script(
      // The first worker streams two chunks and then waits for a release that never comes.
      {
        match: isTurn,
        text: ['Half ', 'an ', 'answer ', 'lost'],
        holdAfterChunks: 3,
        release: never.promise,
      },
      // The retry on the survivor: held mid-stream until the test has looked at the snapshot.
      { match: isTurn, text: retryChunks, holdAfterChunks: 2, release: retryHeld.promise },
    );
    const { chatId, leaseEpoch, victim, survivor } =
      await ctx.cluster.startOwnedChat('Survive a crash');

    const stream = survivor.client(ctx.cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, {
      chatId,
    });
    try {
      // The victim is mid-stream: its parts reach a subscriber on the other replica.
      const lostPart = await stream.waitFor(isPart);
      const lostMessageId = lostPart.chatEvents.messageId!;

      victim.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });

      // The mechanism, not a wall-clock bound across processes: the survivor's retry reached the
      // model, and it holds the chat under the next lease epoch (stale recovery bumps it).
      await ctx.cluster.llm.waitForRequests(2, REPLICA_INTERVALS.CHAT_STALE_AFTER_MS * 4);
      const running = await ctx.cluster.chat(chatId);
      expect(running).toMatchObject({ status: 'RUNNING', workerId: survivor.workerId });
      expect(running.leaseEpoch).toBe(leaseEpoch + 1);

      // A subscriber joining now gets the survivor's streaming step, not the dead one's parts.
      await stream.waitFor(
        (event) => isPart(event) && event.chatEvents.messageId !== lostMessageId,
      );
      const late = survivor.client(ctx.cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, {
        chatId,
      });
      try {
        const buffered = await late.next(isPart);
        expect(buffered.chatEvents.messageId).not.toBe(lostMessageId);
        expect(buffered.chatEvents.part?.text).toBe(retryChunks[0]);
        retryHeld.open();
        await late.waitFor(isStatus('WAITING'));
        const lateParts = late.events.filter(isPart).map((event) => event.chatEvents);
        expect(lateParts.map((event) => event.part?.text)).toEqual(retryChunks);
      } finally {
        await late.close();
      }
      await stream.waitFor(isStatus('WAITING'));

      const rows = await ctx.cluster.messages(chatId);
      expect(rows.map((row) => row.role)).toEqual(['USER', 'ASSISTANT']);
      expect(textOf(rows[1]!.parts)).toBe(retryChunks.join(''));
      expect(rows.map((row) => row.id)).not.toContain(lostMessageId);
      await expectFinishedAfterOneTakeover(ctx.cluster, chatId, stream, rows, leaseEpoch);
      // The survivor's model call started from the persisted history only.
      const retry = ctx.cluster.llm.requests.filter((request) => request.stream)[1]!.body;
      expect(retry.messages.filter((message) => message.role !== 'system')).toEqual([
        expect.objectContaining({ role: 'user', content: 'Survive a crash' }),
      ]);
      expect(survivor.logs().some((line) => line.msg === 'recovered a stale chat')).toBe(true);
    } finally {
      await stream.close();
    }
  });
});
