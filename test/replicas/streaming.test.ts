import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { createGate, isTurn } from '../support/llm.js';
import {
  CHAT_EVENTS,
  createChat,
  isMessage,
  isPart,
  isStatus,
  startReplicaCluster,
  textOf,
  type ChatEventData,
  type ReplicaCluster,
} from '../support/replica.js';

/**
 * B13-B15 across processes: replica `api` serves GraphQL only (DAEMON_ENABLED=false), replica
 * `worker` runs the daemon; events reach a subscriber on either through Redis.
 */
describe('replicas: chatEvents across processes (B13-B15)', () => {
  let cluster: ReplicaCluster;
  let onApi: TestClient;
  let onWorker: TestClient;

  beforeAll(async () => {
    cluster = await startReplicaCluster([{ name: 'api', daemon: false }, { name: 'worker' }]);
    onApi = cluster.replicas['api']!.client(cluster.memberToken);
    onWorker = cluster.replicas['worker']!.client(cluster.memberToken);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('a subscriber on one replica sees the turn another replica runs', async () => {
    const gate = createGate();
    const chunks = ['Hello ', 'from ', 'the ', 'worker ', 'replica.'];
    cluster.llm.script({ match: isTurn, gate: gate.promise, text: chunks });
    const chatId = await createChat(onApi, 'Who runs me?');
    const stream = onApi.subscribe<ChatEventData>(CHAT_EVENTS, { chatId });
    try {
      await stream.waitFor((event) => event.chatEvents.__typename === 'StatusEvent');
      gate.open();
      await stream.waitFor(isStatus('WAITING'));

      const events = stream.events.map((event) => event.chatEvents);
      const messages = events.filter((event) => event.message).map((event) => event.message!);
      expect(messages.map((message) => message.role)).toEqual(['USER', 'ASSISTANT']);
      const assistant = messages[1]!;
      expect(textOf(assistant.parts)).toBe(chunks.join(''));
      // Deltas all name the message they became and concatenate to its text (B14: the server
      // may merge provider chunks for a short window).
      const parts = events.filter((event) => event.__typename === 'MessagePartEvent');
      expect(parts.map((event) => event.part?.text).join('')).toBe(chunks.join(''));
      expect(new Set(parts.map((event) => event.messageId))).toEqual(new Set([assistant.id]));
      const statuses = events.filter((e) => e.__typename === 'StatusEvent').map((e) => e.status);
      expect(statuses.slice(-2)).toEqual(['RUNNING', 'WAITING']);

      // Only the worker replica can have run it, once.
      expect(cluster.llm.requests.filter((request) => request.stream)).toHaveLength(1);
      expect(await cluster.chat(chatId)).toMatchObject({ status: 'WAITING', leaseEpoch: 1 });
      expect(cluster.replicas['api']!.logs().some((line) => line.msg === 'daemon started')).toBe(
        false,
      );
    } finally {
      await stream.close();
    }
  });

  it('resubscribing on another replica with afterMessageId mid-stream misses and repeats nothing', async () => {
    cluster.llm.reset();
    const held = createGate();
    const firstStep = ['Checking ', 'the clock.'];
    const chunks = Array.from({ length: 24 }, (_, index) => `w${index} `);
    const HELD_AFTER_TEXT_CHUNKS = 8;
    cluster.llm.script(
      {
        match: isTurn,
        text: firstStep,
        toolCalls: [{ id: 'call_1', name: 'current_time', args: {} }],
      },
      {
        match: isTurn,
        text: chunks,
        // The role chunk comes first; then HELD_AFTER_TEXT_CHUNKS text chunks, then the hold.
        holdAfterChunks: HELD_AFTER_TEXT_CHUNKS + 1,
        release: held.promise,
        chunkDelayMs: 10,
      },
    );
    const chatId = await createChat(onApi, 'What time is it?');

    // First connection, on the API replica: read the persisted steps and a few parts of step 2.
    const first = onApi.subscribe<ChatEventData>(CHAT_EVENTS, { chatId });
    let lastSeenMessageId: string;
    let firstParts: string[];
    try {
      const toolEvent = await first.waitFor((event) => event.chatEvents.message?.role === 'TOOL');
      const toolId = toolEvent.chatEvents.message!.id;
      await first.waitFor(() =>
        first.events
          .filter((event) => isPart(event) && BigInt(event.chatEvents.messageId!) > BigInt(toolId))
          .map((event) => event.chatEvents.part!.text!)
          .join('')
          .includes(`w${HELD_AFTER_TEXT_CHUNKS - 3} `),
      );
      const seenMessages = first.events.filter(isMessage).map((e) => e.chatEvents.message!);
      expect(seenMessages.map((message) => message.role)).toEqual(['USER', 'ASSISTANT', 'TOOL']);
      lastSeenMessageId = seenMessages.at(-1)!.id;
      expect(lastSeenMessageId).toBe(toolId);
      firstParts = first.events
        .filter((event) => isPart(event) && BigInt(event.chatEvents.messageId!) > BigInt(toolId))
        .map((event) => event.chatEvents.part!.text!);
      expect(firstParts.length).toBeGreaterThan(0);
    } finally {
      await first.close();
    }

    // Second connection, on the worker replica, from the last message seen.
    const second = onWorker.subscribe<ChatEventData>(CHAT_EVENTS, {
      chatId,
      after: lastSeenMessageId,
    });
    try {
      await second.waitFor((event) => event.chatEvents.__typename === 'StatusEvent');
      // Let the rest stream while the snapshot is being read and the live stream starts.
      held.open();
      await second.waitFor(isStatus('WAITING'));

      const events = second.events.map((event) => event.chatEvents);
      const messages = events.filter((event) => event.message).map((event) => event.message!);
      expect(messages.map((message) => message.role)).toEqual(['ASSISTANT']);
      const final = messages[0]!;
      expect(BigInt(final.id)).toBeGreaterThan(BigInt(lastSeenMessageId));
      expect(textOf(final.parts)).toBe(chunks.join(''));
      // Every part of the streaming step exactly once, in order: the buffered ones, then live.
      const parts = events.filter((event) => event.__typename === 'MessagePartEvent');
      expect(parts.map((event) => event.part?.text).join('')).toBe(chunks.join(''));
      expect(new Set(parts.map((event) => event.messageId))).toEqual(new Set([final.id]));
      expect(chunks.join('').startsWith(firstParts.join(''))).toBe(true);

      // Together the two connections saw every persisted message exactly once.
      const persisted = await cluster.messages(chatId);
      expect(persisted.map((row) => row.role)).toEqual(['USER', 'ASSISTANT', 'TOOL', 'ASSISTANT']);
      expect(persisted.at(-1)!.id).toBe(final.id);
      expect(textOf(persisted.at(-1)!.parts)).toBe(chunks.join(''));
    } finally {
      await second.close();
    }
  });
});
