import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../../src/logger.js';
import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import {
  eventsOf,
  isStatus,
  loadHistory,
  persistedMessages,
  subscribeChat,
} from '../../support/chat-stream.js';
import { answering } from '../../support/daemon-server.js';
import { configureFakeModel, createGate, startScriptedLlm } from '../../support/llm.js';
import { deferred, startMcpTestServer, type McpTestServer } from '../../support/mcp-server.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import type { TestClient } from '../../support/client.js';

/**
 * MCP tools in real turns (issue #12): the scripted model calls `<server>__<tool>` and the real
 * MCP server's result is streamed and persisted; errors, a slow call interrupted, a server that
 * goes away mid-chat, the allow/deny lists, PLAN mode, and no secret in any log line.
 */
const API_KEY = 'mcp-turn-secret-key-0123456789';
const HEADER_VALUE = 'mcp-turn-secret-header-9876543210';
const CREATE = `mutation ($input: CreateMcpServerInput!) { createMcpServer(input: $input) { id } }`;

interface ToolResultPart {
  type: string;
  toolName?: string;
  isError?: boolean;
  result?: unknown;
}

describe('MCP tools in chats (issue #12)', () => {
  let server: TestServer;
  let llm: FakeLlm;
  let member: TestClient;
  let main: McpTestServer;
  let legacy: McpTestServer;
  let gone: McpTestServer;
  let goneId: string;
  const logLines: string[] = [];
  let slowStarted = deferred();
  let slowCancelled = deferred();

  beforeAll(async () => {
    main = await startMcpTestServer({
      transport: 'STREAMABLE_HTTP',
      requiredHeaders: { authorization: `Bearer ${API_KEY}` },
      setup(mcp) {
        mcp.registerTool(
          'echo',
          {
            description: 'Repeats text.',
            inputSchema: { text: z.string(), times: z.number().int().optional() },
          },
          ({ text, times }) => ({ content: [{ type: 'text', text: text.repeat(times ?? 1) }] }),
        );
        mcp.registerTool('fail', {}, () => ({
          isError: true,
          content: [{ type: 'text', text: 'the widget is broken' }],
        }));
        mcp.registerTool('picture', {}, () => ({
          content: [
            { type: 'text', text: 'a chart' },
            { type: 'image', mimeType: 'image/png', data: 'iVBORw0KGgo=' },
          ],
        }));
        mcp.registerTool('slow', {}, (extra) => {
          slowStarted.resolve();
          return new Promise((resolve) =>
            extra.signal.addEventListener('abort', () => {
              slowCancelled.resolve();
              resolve({ content: [{ type: 'text', text: 'too late' }] });
            }),
          );
        });
        mcp.registerTool('hidden', {}, () => ({ content: [] }));
      },
    });
    legacy = await startMcpTestServer({
      transport: 'SSE',
      requiredHeaders: { 'x-team-token': HEADER_VALUE },
      setup(mcp) {
        mcp.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
          content: [{ type: 'text', text: `sse:${text}` }],
        }));
        mcp.registerTool('other', {}, () => ({ content: [] }));
      },
    });
    gone = await startMcpTestServer({
      transport: 'STREAMABLE_HTTP',
      setup(mcp) {
        mcp.registerTool('ping', {}, () => ({ content: [{ type: 'text', text: 'pong' }] }));
      },
    });
    llm = await startScriptedLlm();
    server = await startTestServer({
      env: { CHAT_ACQUIRE_INTERVAL_MS: '100' },
      logger: createLogger(
        'debug',
        {},
        { destination: { write: (line: string) => logLines.push(line) } },
      ),
    });
    await configureFakeModel(server.admin, llm);
    member = (await server.createMember()).client;
    const create = async (input: Record<string, unknown>) =>
      (await server.admin.query<{ createMcpServer: { id: string } }>(CREATE, { input }))
        .createMcpServer.id;
    await create({
      name: 'main',
      displayName: 'Main',
      url: main.url,
      authType: 'API_KEY',
      apiKey: API_KEY,
      toolDenyList: ['hidden'],
      availability: 'FORCE_ON',
      enabled: true,
    });
    await create({
      name: 'legacy',
      displayName: 'Legacy',
      url: legacy.url,
      transport: 'SSE',
      authType: 'HEADERS',
      customHeaders: [{ name: 'X-Team-Token', value: HEADER_VALUE }],
      toolAllowList: ['echo'],
      enabled: true,
    });
    goneId = await create({
      name: 'gone',
      displayName: 'Gone',
      url: gone.url,
      availability: 'DEFAULT_OFF',
      enabled: true,
    });
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
    await Promise.all([main?.close(), legacy?.close(), gone?.close()]);
  });

  const offeredTools = (text: string) => {
    const request = llm.requests.find((r) => answering(text)(r.body))!;
    return (request.body.tools as { function: { name: string } }[]).map((t) => t.function.name);
  };

  async function runChat(text: string, input: Record<string, unknown> = {}) {
    const created = await member.query<{ createChat: { id: string } }>(
      `mutation ($input: CreateChatInput!) { createChat(input: $input) { id } }`,
      { input: { text, ...input } },
    );
    const chatId = created.createChat.id;
    const stream = subscribeChat(member, chatId);
    await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
    return { chatId, stream };
  }

  const toolResults = (messages: { role: string; parts: readonly unknown[] }[]) =>
    messages.filter((m) => m.role === 'TOOL').map((m) => m.parts[0] as ToolResultPart);

  it('offers the allowed tools as <server>__<tool> and streams and persists their results', async () => {
    const text = 'Use the MCP tools';
    const turnGate = createGate();
    llm.script(
      {
        match: answering(text),
        gate: turnGate.promise,
        toolCalls: [
          { id: 'call_echo', name: 'main__echo', args: { text: 'ab', times: 2 } },
          { id: 'call_sse', name: 'legacy__echo', args: { text: 'hi' } },
        ],
      },
      {
        match: (body) => body.stream === true && body.messages.at(-1)?.role === 'tool',
        text: 'Done.',
      },
    );
    const { chatId, stream } = await runChat(text);
    try {
      turnGate.open();
      await stream.waitFor(isStatus('WAITING'));
      expect(
        offeredTools(text)
          .filter((name) => name.includes('__'))
          .sort(),
      ).toEqual(['legacy__echo', 'main__echo', 'main__fail', 'main__picture', 'main__slow']);
      const messages = persistedMessages(stream);
      const results = toolResults(messages);
      expect(results).toEqual([
        expect.objectContaining({
          toolName: 'main__echo',
          isError: false,
          result: { content: 'abab' },
        }),
        expect.objectContaining({
          toolName: 'legacy__echo',
          isError: false,
          result: { content: 'sse:hi' },
        }),
      ]);
      // Streamed as they finished (unless the persisted message overtook the part).
      const toolIds = new Set(messages.filter((m) => m.role === 'TOOL').map((m) => m.id));
      for (const event of eventsOf(stream)) {
        if (event.__typename === 'MessagePartEvent' && toolIds.has(String(event.messageId))) {
          expect(event.part).toMatchObject({ type: 'TOOL_RESULT', isError: false });
        }
      }
      const history = await loadHistory(member, chatId);
      expect(history.roles).toEqual(['USER', 'ASSISTANT', 'TOOL', 'TOOL', 'ASSISTANT']);
    } finally {
      await stream.close();
    }
  });

  it('passes a tool error on as an error result, and summarises images', async () => {
    const text = 'Break something';
    llm.script(
      {
        match: answering(text),
        toolCalls: [
          { id: 'call_fail', name: 'main__fail', args: {} },
          { id: 'call_pic', name: 'main__picture', args: {} },
          { id: 'call_hidden', name: 'main__hidden', args: {} },
        ],
      },
      {
        match: (body) => body.stream === true && body.messages.at(-1)?.role === 'tool',
        text: 'Oops.',
      },
    );
    const { stream } = await runChat(text);
    try {
      await stream.waitFor(isStatus('WAITING'));
      const [failed, picture, hidden] = toolResults(persistedMessages(stream));
      expect(failed).toMatchObject({ isError: true, result: { error: 'the widget is broken' } });
      expect(picture).toMatchObject({
        isError: false,
        result: { content: 'a chart\n[image: image/png, 8 bytes]' },
      });
      // A deny-listed tool is not there, even when the model names it.
      expect(hidden).toMatchObject({
        isError: true,
        result: { error: 'Tool not found: main__hidden' },
      });
    } finally {
      await stream.close();
    }
  });

  it('interruptChat stops a slow MCP call: the server is told and the chat is PAUSED', async () => {
    const text = 'Run the slow tool';
    slowStarted = deferred();
    slowCancelled = deferred();
    llm.script({
      match: answering(text),
      toolCalls: [{ id: 'call_slow', name: 'main__slow', args: {} }],
    });
    const { chatId, stream } = await runChat(text);
    try {
      await slowStarted.promise;
      const paused = await member.query<{ interruptChat: { status: string } }>(
        'mutation ($id: ID!) { interruptChat(id: $id) { status } }',
        { id: chatId },
      );
      expect(paused.interruptChat.status).toBe('PAUSED');
      await slowCancelled.promise;
      const history = await loadHistory(member, chatId);
      const result = history.messages.find((m) => m.role === 'TOOL')?.parts[0] as ToolResultPart;
      expect(result).toMatchObject({ type: 'TOOL_RESULT', isError: true });
    } finally {
      await stream.close();
    }
  });

  it('a server that goes away mid-chat becomes an error result; the turn goes on', async () => {
    const text = 'Ping twice';
    const secondStep = createGate();
    llm.script(
      { match: answering(text), toolCalls: [{ id: 'call_ping1', name: 'gone__ping', args: {} }] },
      {
        match: (body) =>
          body.stream === true && body.messages.at(-1)?.tool_call_id === 'call_ping1',
        gate: secondStep.promise,
        toolCalls: [{ id: 'call_ping2', name: 'gone__ping', args: {} }],
      },
      {
        match: (body) =>
          body.stream === true && body.messages.at(-1)?.tool_call_id === 'call_ping2',
        text: 'The server is gone.',
      },
    );
    const { stream } = await runChat(text, { mcpServerIds: [goneId] });
    try {
      await stream.waitFor(() =>
        toolResults(persistedMessages(stream)).some((part) => part.toolName === 'gone__ping'),
      );
      await gone.close();
      secondStep.open();
      await stream.waitFor(isStatus('WAITING'));
      const [first, second] = toolResults(persistedMessages(stream));
      expect(first).toMatchObject({ isError: false, result: { content: 'pong' } });
      expect(second).toMatchObject({ isError: true });
      expect((second!.result as { error: string }).error).toMatch(/^MCP server gone failed: /);
      expect(logLines.some((line) => line.includes('MCP tool call failed'))).toBe(true);
    } finally {
      await stream.close();
    }
  });

  it('offers no MCP tools in PLAN mode', async () => {
    const text = 'Plan only';
    llm.script({ match: answering(text), text: 'A plan.' });
    const { stream } = await runChat(text, { mode: 'PLAN' });
    try {
      await stream.waitFor(isStatus('WAITING'));
      expect(offeredTools(text).filter((name) => name.includes('__'))).toEqual([]);
    } finally {
      await stream.close();
    }
  });

  it('never writes a secret to the log', () => {
    const log = logLines.join('\n');
    expect(log).toContain('MCP server created');
    expect(log).not.toContain(API_KEY);
    expect(log).not.toContain(HEADER_VALUE);
  });
});
