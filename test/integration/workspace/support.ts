import path from 'node:path';

import { expect } from 'vitest';

import {
  firstUserText,
  type ChatRequestBody,
  type FakeLlm,
  type ScriptedResponse,
  type ScriptedToolCall,
} from '../../../src/testing/fake-llm/index.js';
import type { EventStream, TestClient } from '../../support/client.js';
import { isTurn } from '../../support/llm.js';
import type { TestServer } from '../../support/server.js';

/**
 * Helpers for the workspace suites: scripted turns whose steps are matched to one chat by its
 * first user message (so tests sharing a fake LLM do not take each other's steps), and the tool
 * results a turn produced, read from chatEvents.
 */

export const CHAT_EVENTS = `subscription ($chatId: ID!, $after: ID) {
  chatEvents(chatId: $chatId, afterMessageId: $after) {
    __typename
    ... on StatusEvent { status lastError }
    ... on MessageEvent { message { id role parts { type ... on TextPart { text } ... on ToolCallPart { toolCallId toolName args } ... on ToolResultPart { toolCallId toolName result isError } } } }
  }
}`;

export interface Part {
  type: string;
  text?: string;
  toolCallId?: string;
  toolName?: string;
  args?: unknown;
  result?: unknown;
  isError?: boolean;
}

export interface ChatEvent {
  chatEvents: {
    __typename: string;
    status?: string;
    lastError?: string | null;
    message?: { id: string; role: string; parts: Part[] };
  };
}

/** A tool result as the model got it: `result` is the tool's JSON. */
export interface ToolResult {
  toolCallId: string;
  toolName: string;
  isError: boolean;
  // The tools' JSON results; tests read the fields they check.
  result: Record<string, unknown>;
}

/** A request of the turn whose chat started with `text` (the title request is not a turn). */
export const turnOf =
  (text: string) =>
  (body: ChatRequestBody): boolean =>
    isTurn(body) && firstUserText(body) === text;

let callCounter = 0;
/** A scripted step calling tools, for the chat whose first message is `text`. */
export function toolStep(
  text: string,
  calls: Array<Omit<ScriptedToolCall, 'id'> & { id?: string }>,
): ScriptedResponse {
  return {
    match: turnOf(text),
    toolCalls: calls.map((call) => ({ id: call.id ?? `call_${++callCounter}`, ...call })),
  };
}

export const textStep = (text: string, reply: string): ScriptedResponse => ({
  match: turnOf(text),
  text: reply,
});

/** Creates a chat and waits until its first turn ended (WAITING); returns its id and stream. */
export async function runFirstTurn(
  client: TestClient,
  text: string,
  input: Record<string, unknown> = {},
): Promise<{ chatId: string; stream: EventStream<ChatEvent> }> {
  const created = await client.query<{ createChat: { id: string } }>(
    'mutation ($input: CreateChatInput!) { createChat(input: $input) { id } }',
    { input: { text, ...input } },
  );
  const chatId = created.createChat.id;
  const stream = client.subscribe<ChatEvent>(CHAT_EVENTS, { chatId });
  // The chat starts PENDING, so the only WAITING it can report is the end of this turn.
  await stream.waitFor((e) => e.chatEvents.status === 'WAITING' || e.chatEvents.status === 'ERROR');
  const last = stream.events.filter((e) => e.chatEvents.__typename === 'StatusEvent').at(-1);
  expect(last?.chatEvents).toMatchObject({ status: 'WAITING' });
  return { chatId, stream };
}

/** Sends `text` to a WAITING chat and waits until that turn ended; returns the chat's stream. */
export async function runNextTurn(
  client: TestClient,
  chatId: string,
  text: string,
): Promise<EventStream<ChatEvent>> {
  const stream = client.subscribe<ChatEvent>(CHAT_EVENTS, { chatId });
  await stream.next((e) => e.chatEvents.status === 'WAITING'); // the snapshot
  await client.query(
    'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { __typename } }',
    { input: { chatId, text } },
  );
  await stream.next((e) => e.chatEvents.status === 'RUNNING');
  const end = await stream.next((e) => e.chatEvents.__typename === 'StatusEvent');
  expect(end.chatEvents.status).toBe('WAITING');
  return stream;
}

/**
 * A node-basic workspace made by a first turn of `client` (create_workspace, then a text answer),
 * for suites whose tests all work in one workspace. Returns its id and directory.
 */
export async function workspaceFromFirstTurn(
  server: TestServer,
  llm: FakeLlm,
  client: TestClient,
  text: string,
): Promise<{ workspaceId: string; workspaceDir: string }> {
  llm.script(
    toolStep(text, [{ id: 'ws', name: 'create_workspace', args: { template: 'node-basic' } }]),
    textStep(text, 'Ready.'),
  );
  const first = await runFirstTurn(client, text);
  const workspaceId = (resultOf(first.stream, 'ws').result['workspace'] as { id: string }).id;
  await first.stream.close();
  return { workspaceId, workspaceDir: path.join(server.env['WORKSPACES_DIR']!, workspaceId) };
}

/** Every tool result the stream has seen, in order. */
export function toolResults(stream: EventStream<ChatEvent>): ToolResult[] {
  return stream.events.flatMap((e) =>
    e.chatEvents.message?.role === 'TOOL'
      ? e.chatEvents.message.parts
          .filter((part) => part.type === 'TOOL_RESULT')
          .map((part) => ({
            toolCallId: part.toolCallId!,
            toolName: part.toolName!,
            isError: part.isError!,
            result: part.result as Record<string, unknown>,
          }))
      : [],
  );
}

/** The single result of the call with this id. */
export function resultOf(stream: EventStream<ChatEvent>, toolCallId: string): ToolResult {
  const found = toolResults(stream).filter((r) => r.toolCallId === toolCallId);
  expect(found, `one result for ${toolCallId}`).toHaveLength(1);
  return found[0]!;
}

/** The streaming requests the fake LLM got for the chat whose first message is `text`. */
export function turnRequests(llm: FakeLlm, text: string): ChatRequestBody[] {
  return llm.requests.map((r) => r.body).filter(turnOf(text));
}

/** Names of the tools offered in a request. */
export function offeredTools(body: ChatRequestBody): string[] {
  return (body.tools ?? []).map((tool) => {
    const fn = (tool as { function?: { name?: unknown } }).function;
    return String(fn?.name);
  });
}

/** Text of the system messages of a request. */
export function systemTexts(body: ChatRequestBody): string[] {
  return body.messages
    .filter((m) => m.role === 'system')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
}
