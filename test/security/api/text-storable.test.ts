import { promises as fs } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import { createGate } from '../../support/llm.js';
import {
  CHAT_EVENTS,
  resultOf,
  runFirstTurn,
  textStep,
  toolStep,
  type ChatEvent,
} from '../../integration/workspace/support.js';
import type { EventStream } from '../../support/client.js';

/**
 * Issue #8 row 9: NUL bytes and lone surrogates in tool output, tool arguments and model output
 * are stored as U+FFFD (Postgres rejects them: 22P05) and the turn goes on. Before, the whole
 * turn ended ERROR "Internal error".
 */
const NUL = '\u0000';
const FFFD = '\uFFFD';
const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDC00';

function assistantTexts(stream: EventStream<ChatEvent>): string[] {
  return stream.events.flatMap((event) =>
    event.chatEvents.message?.role === 'ASSISTANT'
      ? event.chatEvents.message.parts.filter((p) => p.type === 'TEXT').map((p) => p.text ?? '')
      : [],
  );
}

function toolArgs(stream: EventStream<ChatEvent>, toolCallId: string): unknown {
  for (const event of stream.events) {
    for (const part of event.chatEvents.message?.parts ?? []) {
      if (part.type === 'TOOL_CALL' && part.toolCallId === toolCallId) return part.args;
    }
  }
  return undefined;
}

describe('security: text that Postgres can store (issue #8, row 9)', () => {
  const ctx = useDaemonServer();
  let member: TestClient;

  beforeAll(async () => {
    member = (await ctx.server.createMember()).client;
  });

  it('stores NUL and lone surrogates from tools and the model as U+FFFD and ends WAITING', async () => {
    const text = 'Handle binary output';
    ctx.llm.script(
      toolStep(text, [{ id: 'ws', name: 'create_workspace', args: { template: 'node-basic' } }]),
      toolStep(text, [
        { id: 'printf', name: 'execute', args: { command: "printf 'a\\0b'" } },
        {
          id: 'write',
          name: 'write_file',
          args: { path: 'bin.dat', content: `x${NUL}y ${LONE_LOW}` },
        },
      ]),
      toolStep(text, [{ id: 'read', name: 'read_file', args: { path: 'bin.dat' } }]),
      textStep(text, `done${NUL} ${LONE_HIGH}!`),
    );

    const { chatId, stream } = await runFirstTurn(member, text);
    try {
      expect(resultOf(stream, 'ws').isError).toBe(false);

      // The command really printed a NUL; what is stored has U+FFFD in its place.
      const printed = resultOf(stream, 'printf');
      expect(printed.isError).toBe(false);
      expect(printed.result['output']).toBe(`a${FFFD}b`);

      // write_file got the NUL and wrote it (the tool sees its arguments as the model sent them);
      // the stored arguments are repaired.
      const write = resultOf(stream, 'write');
      expect(write.isError).toBe(false);
      const workspace = resultOf(stream, 'ws').result['workspace'] as { id: string };
      const onDisk = await fs.readFile(
        path.join(ctx.server.env['WORKSPACES_DIR']!, workspace.id, 'bin.dat'),
      );
      expect(onDisk.includes(0)).toBe(true);
      expect(toolArgs(stream, 'write')).toMatchObject({ content: `x${FFFD}y ${FFFD}` });

      // read_file of a file holding a NUL.
      const read = resultOf(stream, 'read');
      expect(read.isError).toBe(false);
      expect(JSON.stringify(read.result)).toContain(`x${FFFD}y`);
      expect(JSON.stringify(read.result)).not.toContain('\\u0000');

      // The model's own answer.
      expect(assistantTexts(stream).at(-1)).toBe(`done${FFFD} ${FFFD}!`);

      // And what the database holds, read back through the API.
      const history = await member.query<{
        chat: { status: string; lastError: string | null; messages: { edges: unknown[] } };
      }>(
        `query ($id: ID!) { chat(id: $id) { status lastError messages(first: 50) { edges { node { id } } } } }`,
        { id: chatId },
      );
      expect(history.chat).toMatchObject({ status: 'WAITING', lastError: null });
      expect(history.chat.messages.edges.length).toBeGreaterThanOrEqual(8);
    } finally {
      await stream.close();
    }
  });

  it('repairs model-written text that becomes a subagent chat, its title and its messages', async () => {
    const text = 'Delegate with binary';
    const childFirst = `sub${FFFD}task`;
    // message_agent needs the child's id: its step is held until the spawn result is seen, and
    // its arguments filled in then (the fake reads them when it answers).
    const gate = createGate();
    const tell = toolStep(text, [
      { id: 'tell', name: 'message_agent', args: { chat_id: '', message: `more${NUL}` } },
    ]);
    ctx.llm.script(
      toolStep(text, [
        {
          id: 'spawn',
          name: 'spawn_agent',
          args: { prompt: `sub${NUL}task`, title: `Child ${LONE_LOW}title` },
        },
      ]),
      textStep(childFirst, 'child done'),
      textStep(childFirst, 'child done again'),
      { ...tell, gate: gate.promise },
      textStep(text, 'delegated'),
    );
    const created = await member.query<{ createChat: { id: string } }>(
      'mutation ($text: String!) { createChat(input: { text: $text }) { id } }',
      { text },
    );
    const stream = member.subscribe<ChatEvent>(CHAT_EVENTS, { chatId: created.createChat.id });
    try {
      await stream.waitFor((event) =>
        (event.chatEvents.message?.parts ?? []).some(
          (part) => part.type === 'TOOL_RESULT' && part.toolCallId === 'spawn',
        ),
      );
      const spawned = resultOf(stream, 'spawn');
      expect(spawned.isError).toBe(false);
      expect(spawned.result['title']).toBe(`Child ${FFFD}title`);
      const childId = String(spawned.result['chat_id']);
      (tell.toolCalls![0]!.args as { chat_id: string }).chat_id = childId;
      gate.open();
      await stream.waitFor(
        (event) => event.chatEvents.status === 'WAITING' || event.chatEvents.status === 'ERROR',
      );
      const statuses = stream.events.filter((e) => e.chatEvents.__typename === 'StatusEvent');
      expect(statuses.at(-1)?.chatEvents).toMatchObject({ status: 'WAITING' });
      expect(resultOf(stream, 'tell').isError).toBe(false);

      const child = await member.query<{
        chat: {
          title: string;
          messages: { edges: { node: { role: string; parts: { text?: string }[] } }[] };
        };
      }>(
        `query ($id: ID!) { chat(id: $id) { title messages(first: 20) { edges { node { role parts { ... on TextPart { text } } } } } } }`,
        { id: childId },
      );
      expect(child.chat.title).toBe(`Child ${FFFD}title`);
      expect(
        child.chat.messages.edges
          .filter((edge) => edge.node.role === 'USER')
          .map((edge) => edge.node.parts[0]?.text),
      ).toContain(childFirst);
    } finally {
      await stream.close();
    }
  });
});
