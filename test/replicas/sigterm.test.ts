import { describe, expect, it } from 'vitest';
import { createGate, isTurn } from '../support/llm.js';
import {
  CHAT_EVENTS,
  expectFinishedAfterOneTakeover,
  isPart,
  isStatus,
  useReplicaCluster,
  textOf,
  type ChatEventData,
} from '../support/replica.js';

/** B3: the exit must come within 10 s of SIGTERM. */
const SIGTERM_EXIT_BUDGET_MS = 10_000;
const VICTIM_SUBSCRIBERS = 3;

/** B3: SIGTERM mid-turn hands the chat back (PENDING) with what it produced; another resumes. */
describe('replicas: SIGTERM mid-turn (B3)', () => {
  // Back-to-back acquire ticks, so the SIGTERM lands while an acquire is in flight: the
  // shutdown must then release only what that acquire took, not the turn still persisting.
  const env = { CHAT_ACQUIRE_INTERVAL_MS: '2' };

  const ctx = useReplicaCluster([
    { name: 'a', env },
    { name: 'b', env },
  ]);

  it('exits 0, returns the chat to PENDING with its partial output, and the other replica finishes it', async () => {
    const never = createGate();
    const partial = ['Partial ', 'output '];
    const resumed = ['Resumed ', 'elsewhere.'];
    ctx.cluster.llm.script(
      {
        match: isTurn,
        text: [...partial, 'never sent'],
        holdAfterChunks: 1 + partial.length,
        release: never.promise,
      },
      { match: isTurn, text: resumed },
    );
    const { chatId, leaseEpoch, victim, survivor } =
      await ctx.cluster.startOwnedChat('Shut down gracefully');

    const stream = survivor.client(ctx.cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, {
      chatId,
    });
    // Subscribers on the replica going away: their subscriptions are closed, and tearing them
    // down (each unsubscribes from Redis) must not race the shutdown into a non-zero exit.
    const onVictim = Array.from({ length: VICTIM_SUBSCRIBERS }, () =>
      victim.client(ctx.cluster.memberToken).subscribe<ChatEventData>(CHAT_EVENTS, { chatId }),
    );
    try {
      await Promise.all(onVictim.map((subscriber) => subscriber.waitFor(isPart)));
      await stream.waitFor((event) => isPart(event) && event.chatEvents.part?.text === partial[1]);
      const partialId = stream.events.find(isPart)!.chatEvents.messageId!;

      victim.kill('SIGTERM');
      const signalledAt = Date.now();
      const exit = await victim.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(SIGTERM_EXIT_BUDGET_MS);
      for (const subscriber of onVictim) {
        await expect(subscriber.next(() => false, 1_000)).rejects.toThrow('Subscription ended');
      }
      // The turn handed the chat back itself: one stopped turn, and the shutdown fallback had
      // nothing left to release.
      expect(victim.logs().find((line) => line.msg === 'daemon stopped')).toMatchObject({
        stoppedTurns: 1,
        releasedAfterGrace: 0,
      });

      // Back to PENDING, or already taken by the survivor under a new lease.
      const afterExit = await ctx.cluster.chat(chatId);
      if (afterExit.status === 'PENDING') {
        expect(afterExit).toMatchObject({ workerId: null, leaseEpoch });
      } else {
        expect(afterExit).toMatchObject({ leaseEpoch: leaseEpoch + 1 });
        expect(['RUNNING', 'WAITING']).toContain(afterExit.status);
      }
      await stream.waitFor(isStatus('WAITING'));

      // The partial step is persisted once, and the survivor's turn continued from it.
      const rows = await ctx.cluster.messages(chatId);
      expect(rows.map((row) => row.role)).toEqual(['USER', 'ASSISTANT', 'ASSISTANT']);
      expect(rows[1]!.id).toBe(partialId);
      expect(textOf(rows[1]!.parts)).toBe(partial.join(''));
      expect(textOf(rows[2]!.parts)).toBe(resumed.join(''));
      await expectFinishedAfterOneTakeover(ctx.cluster, chatId, stream, rows, leaseEpoch);
      const turns = ctx.cluster.llm.requests.filter((request) => request.stream);
      expect(turns).toHaveLength(2);
      expect(turns[1]!.body.messages.at(-1)).toMatchObject({
        role: 'assistant',
        content: partial.join(''),
      });
    } finally {
      await Promise.all(onVictim.map((subscriber) => subscriber.close()));
      await stream.close();
    }
  });
});
