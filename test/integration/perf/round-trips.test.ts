import { describe, expect, it } from 'vitest';
import { COALESCE_MAX_BYTES } from '../../../src/daemon/delta-coalescer.js';
import type { ChatEventPayload } from '../../../src/pubsub/index.js';
import { topics } from '../../../src/pubsub/index.js';
import type { Viewer } from '../../../src/deps.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import type { TestServer } from '../../support/server.js';
import { GENERATED_TITLE, createGate, isTurn } from '../../support/llm.js';

/**
 * Issue #9's regression guard, on counts rather than the clock: a change that adds a round trip
 * to a turn, or publishes a part per provider chunk again, fails here whatever the machine's
 * speed. The budgets below are what the code needs today; raise one only with a reason.
 *
 * A trivial turn ("hi", one streamed answer, title generated), counted at the database driver:
 *   createChat (service): usage limit (1: the limit, and the spend only when one applies)
 *     + model config (1) + the chat with its first message, file links and MCP choices in one
 *     INSERT … WITH statement (1; it was BEGIN, chat, message, COMMIT)
 *   daemon: acquire (1, shared by a batch, with the first message id) + model config and
 *     provider, or the default's when the chat's is unusable (1) + history (1) + system prompt
 *     and the owner's instructions (1) + the step's message under the lease (1) + end of turn:
 *     WAITING unless paused, queued or the lease is lost, one statement (1; it was BEGIN, lock,
 *     update, COMMIT) + the title's write (1). No statement for MCP servers while none is
 *     enabled (issue #12), nor for a workspace checkpoint in a chat without a workspace (#11).
 */
const CREATE_CHAT_STATEMENTS = 3;
/** The wake-up createChat or sendMessage publishes itself. */
const OWN_WAKE_UPS = 1;
/**
 * sendMessage to an idle chat: access check (1) + usage limit (1) + the message, its file links
 * and PENDING under the chat's row lock in one statement (1; it was BEGIN, lock, chat row,
 * message, PENDING, COMMIT).
 */
const SEND_MESSAGE_STATEMENTS = 3;
const TURN_STATEMENTS = 7;

/**
 * Counts daemon wake-ups while a turn is measured. On Postgres + Redis every test server shares
 * one Redis, so other tests' wake-ups reach this daemon too, each worth at most one (empty)
 * acquire statement: the budget allows exactly those, and nothing else.
 */
async function countWakeUps(server: TestServer) {
  let count = 0;
  const unsubscribe = await server.app.deps.pubsub.subscribe(topics.daemonWake(), () => {
    count++;
  });
  return {
    foreign: () => Math.max(0, count - OWN_WAKE_UPS),
    stop: unsubscribe,
  };
}

/** The server's statement counter, as the benchmark reads it (GET /metrics sends no SQL). */
async function statementCount(server: TestServer): Promise<number> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('agentgraph_sql_statements_total '));
  return Number(line!.split(' ')[1]);
}

/** Nothing but the turn may touch the database while it is counted: no poll, no heartbeat. */
const QUIET_DAEMON = {
  CHAT_ACQUIRE_INTERVAL_MS: '3600000',
  CHAT_HEARTBEAT_INTERVAL_MS: '3600000',
  CHAT_STALE_AFTER_MS: '36000000',
};

function viewerOf(member: { id: string }): Viewer {
  return { id: member.id, username: 'member', role: 'MEMBER' };
}

describe('round trips per trivial turn (issue #9)', () => {
  const ctx = useDaemonServer({ env: QUIET_DAEMON });

  it(`a first turn with its title costs at most ${CREATE_CHAT_STATEMENTS + TURN_STATEMENTS} statements, createChat included`, async () => {
    const { app } = ctx.server;
    const member = await ctx.server.createMember();
    const viewer = viewerOf(member);
    ctx.llm.script({ match: isTurn, text: ['Hel', 'lo', '!'] });
    // The title event is the last thing a first turn does (after WAITING).
    let titled: () => void = () => undefined;
    const titleSeen = new Promise<void>((resolve) => (titled = resolve));
    const unsubscribe = await app.deps.pubsub.subscribe(topics.chatList(member.id), (event) => {
      if (event.kind === 'UPDATED') titled();
    });
    const wakeUps = await countWakeUps(ctx.server);
    try {
      const before = await statementCount(ctx.server);
      const chat = await app.services.chats.createChat(viewer, { text: 'hi' });
      await titleSeen;
      const spent = (await statementCount(ctx.server)) - before - wakeUps.foreign();

      const row = await app.deps.prisma.chat.findUniqueOrThrow({ where: { id: chat.id } });
      expect(row).toMatchObject({ status: 'WAITING', title: GENERATED_TITLE, workerId: null });
      const messages = await app.deps.prisma.chatMessage.findMany({
        where: { chatId: chat.id },
        orderBy: { id: 'asc' },
      });
      expect(messages.map((m) => m.role)).toEqual(['USER', 'ASSISTANT']);
      expect(messages[1]!.parts).toEqual([{ type: 'TEXT', text: 'Hello!' }]);
      expect(spent).toBeLessThanOrEqual(CREATE_CHAT_STATEMENTS + TURN_STATEMENTS);
    } finally {
      await unsubscribe();
      await wakeUps.stop();
    }
  });

  it(`a later turn (sendMessage on a WAITING chat) costs at most ${SEND_MESSAGE_STATEMENTS + TURN_STATEMENTS - 1} statements, sendMessage included`, async () => {
    const { app } = ctx.server;
    const member = await ctx.server.createMember();
    const viewer = viewerOf(member);
    ctx.llm.script({ match: isTurn, text: 'first' }, { match: isTurn, text: 'second' });
    let titled: () => void = () => undefined;
    const titleSeen = new Promise<void>((resolve) => (titled = resolve));
    const unsubscribeList = await app.deps.pubsub.subscribe(topics.chatList(member.id), (event) => {
      if (event.kind === 'UPDATED') titled();
    });
    const chat = await app.services.chats.createChat(viewer, { text: 'one' });
    await titleSeen;
    let ended: () => void = () => undefined;
    const turnEnded = new Promise<void>((resolve) => (ended = resolve));
    const unsubscribe = await app.deps.pubsub.subscribe(topics.chatEvents(chat.id), (event) => {
      if (event.__typename === 'StatusEvent' && event.status === 'WAITING') ended();
    });
    const wakeUps = await countWakeUps(ctx.server);
    try {
      const before = await statementCount(ctx.server);
      const sent = await app.services.chats.sendMessage(viewer, { chatId: chat.id, text: 'two' });
      await turnEnded;
      const spent = (await statementCount(ctx.server)) - before - wakeUps.foreign();
      expect(sent.message).not.toBeNull();
      const last = await app.deps.prisma.chatMessage.findFirstOrThrow({
        where: { chatId: chat.id },
        orderBy: { id: 'desc' },
      });
      expect(last.parts).toEqual([{ type: 'TEXT', text: 'second' }]);
      // No title this time: the turn's budget without the title's write.
      expect(spent).toBeLessThanOrEqual(SEND_MESSAGE_STATEMENTS + TURN_STATEMENTS - 1);
    } finally {
      await unsubscribe();
      await unsubscribeList();
      await wakeUps.stop();
    }
  });
});

describe('published parts per coalescing window (issue #9, B14)', () => {
  // A window no run can outlast: what is merged depends only on the stream, never on timing.
  const ctx = useDaemonServer({ env: { ...QUIET_DAEMON, CHAT_STREAM_COALESCE_MS: '60000' } });

  async function streamedParts(chunks: string[]) {
    const { app } = ctx.server;
    const member = await ctx.server.createMember();
    const gate = createGate();
    ctx.llm.script({ match: isTurn, gate: gate.promise, text: chunks });
    const chat = await app.services.chats.createChat(viewerOf(member), { text: 'stream' });
    const parts: Extract<ChatEventPayload, { __typename: 'MessagePartEvent' }>[] = [];
    let persisted: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (persisted = resolve));
    const unsubscribe = await app.deps.pubsub.subscribe(topics.chatEvents(chat.id), (event) => {
      if (event.__typename === 'MessagePartEvent') parts.push(event);
      if (event.__typename === 'MessageEvent' && event.message.role === 'ASSISTANT') persisted();
    });
    try {
      gate.open();
      await done;
    } finally {
      await unsubscribe();
    }
    const texts = parts.map((event) => ('text' in event.part ? event.part.text : ''));
    return { texts, seqs: parts.map((event) => event.seq) };
  }

  it('200 small deltas in one window are published as 2 parts with the same text', async () => {
    const chunks = Array.from({ length: 200 }, (_, index) => `d${index} `);
    const { texts, seqs } = await streamedParts(chunks);
    // The first delta at once (no delay before the first token), the rest at the step's end.
    expect(texts).toEqual([chunks[0], chunks.slice(1).join('')]);
    expect(seqs).toEqual([0, 1]);
  });

  it('a window is cut at 2 KB: 40 deltas of 100 bytes are 3 parts', async () => {
    const chunks = Array.from({ length: 40 }, (_, index) => `${index}`.padEnd(100, '.'));
    const { texts } = await streamedParts(chunks);
    const perPart = Math.ceil(COALESCE_MAX_BYTES / 100);
    expect(texts).toEqual([
      chunks[0],
      chunks.slice(1, 1 + perPart).join(''),
      chunks.slice(1 + perPart).join(''),
    ]);
    expect(texts.join('')).toBe(chunks.join(''));
  });
});
