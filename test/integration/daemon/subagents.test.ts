import { describe, expect, it } from 'vitest';
import {
  lastUserText,
  startFakeLlm,
  type ChatRequestBody,
  type ScriptedResponse,
} from '../../../src/testing/fake-llm/index.js';
import { isStatus, loadHistory, subscribeChat } from '../../support/chat-stream.js';
import { createGate } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';

/** The last tool result the model is shown, parsed. */
function lastToolResult(body: ChatRequestBody): Record<string, unknown> | null {
  const last = body.messages.at(-1);
  if (last?.role !== 'tool' || typeof last.content !== 'string') return null;
  return JSON.parse(last.content) as Record<string, unknown>;
}

describe('subagents: spawn_agent, wait_agent, children (B19)', () => {
  const childGate = createGate();
  const ctx = useDaemonServer({
    startLlm: () =>
      startFakeLlm({
        fallback: (body): ScriptedResponse => {
          if (!body.stream) return { text: 'Title' };
          const result = lastToolResult(body);
          if (result && typeof result['report'] === 'string') {
            return { text: `The child reported: ${result['report']}` };
          }
          if (result && typeof result['chat_id'] === 'string') {
            return {
              toolCalls: [
                { name: 'wait_agent', args: { chat_id: result['chat_id'], timeout_seconds: 60 } },
              ],
            };
          }
          return { status: 500, errorMessage: 'unexpected request' };
        },
      }),
  });

  it('runs a child chat on its own and returns its report to the parent', async () => {
    const member = await ctx.server.createMember();
    ctx.llm.script(
      {
        match: (body) => body.stream === true && lastUserText(body) === 'delegate this',
        toolCalls: [{ name: 'spawn_agent', args: { prompt: 'child task', title: 'Child' } }],
      },
      {
        match: (body) => body.stream === true && lastUserText(body) === 'child task',
        gate: childGate.promise,
        text: 'child report',
      },
    );
    const created = await member.client.query(CreateChatMutation, {
      input: { text: 'delegate this' },
    });
    const rootId = created.createChat.id;
    const stream = subscribeChat(member.client, rootId);
    try {
      // The parent is blocked in wait_agent until the child answers.
      await ctx.llm.waitForRequests(3);
      childGate.open();
      await stream.waitFor(isStatus('WAITING'));
      const { transcript } = await loadHistory(member.client, rootId);
      expect(transcript.at(-1)).toBe('ASSISTANT:The child reported: child report');

      const tree = await member.client.query<{
        chat: {
          children: {
            id: string;
            title: string;
            status: string;
            parent: { id: string };
            root: { id: string };
          }[];
        };
        chats: { edges: { node: { id: string } }[] };
      }>(
        `query ($id: ID!) {
          chat(id: $id) { children { id title status parent { id } root { id } } }
          chats(first: 50) { edges { node { id } } }
        }`,
        { id: rootId },
      );
      const [child] = tree.chat.children;
      expect(child).toMatchObject({
        title: 'Child',
        status: 'WAITING',
        parent: { id: rootId },
        root: { id: rootId },
      });
      // The list shows roots only; children are nested.
      expect(tree.chats.edges.map((edge) => edge.node.id)).toEqual([rootId]);

      // The child was not offered spawn_agent (children cannot spawn agents).
      const childRequest = ctx.llm.requests.find(
        (request) => lastUserText(request.body) === 'child task',
      );
      const childTools = (childRequest!.body.tools as { function: { name: string } }[]).map(
        (tool) => tool.function.name,
      );
      expect(childTools).not.toContain('spawn_agent');
      expect(childTools).not.toContain('create_workspace');

      // Archiving the root archives its child (B19).
      await member.client.query('mutation ($id: ID!) { archiveChat(id: $id) { id } }', {
        id: rootId,
      });
      const archived = await ctx.server.app.deps.prisma.chat.findUniqueOrThrow({
        where: { id: child!.id },
      });
      expect(archived.archived).toBe(true);
    } finally {
      await stream.close();
    }
  });

  it('refuses to wait on a chat outside its tree', async () => {
    const member = await ctx.server.createMember();
    const other = await ctx.server.createMember();
    const foreign = await other.client.query(CreateChatMutation, { input: { text: 'foreign' } });
    ctx.llm.script(
      {
        match: (body) => body.stream === true && lastUserText(body) === 'foreign',
        text: 'ok',
      },
      {
        match: (body) => body.stream === true && lastUserText(body) === 'wait on a stranger',
        toolCalls: [{ name: 'wait_agent', args: { chat_id: foreign.createChat.id } }],
      },
      {
        match: (body) => body.stream === true && lastToolResult(body)?.['error'] !== undefined,
        text: 'could not',
      },
    );
    const created = await member.client.query(CreateChatMutation, {
      input: { text: 'wait on a stranger' },
    });
    const stream = subscribeChat(member.client, created.createChat.id);
    try {
      await stream.waitFor(isStatus('WAITING'));
      const { messages } = await loadHistory(member.client, created.createChat.id);
      const result = messages.find((message) => message.role === 'TOOL')!.parts[0];
      expect(result).toMatchObject({ isError: true });
    } finally {
      await stream.close();
    }
  });
});
