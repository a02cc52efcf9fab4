import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lastUserText,
  type ChatRequestBody,
  type FakeLlm,
} from '../../../src/testing/fake-llm/index.js';
import type { TestClient } from '../../support/client.js';
import {
  isStatus,
  loadHistory,
  subscribeChat,
  waitForStatusCount,
} from '../../support/chat-stream.js';
import {
  configureFakeModel,
  createGate,
  FAKE_PROVIDER_KINDS,
  isTurn,
  startScriptedLlm,
  type FakeProviderKind,
} from '../../support/llm.js';
import { CreateChatMutation, SendMessageMutation } from '../../support/operations.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Attachments (issue #10): upload through the GraphQL multipart request spec, download with the
 * owner's token, files in messages reaching both provider kinds in their own format, and the
 * attacks (oversized, unknown type, another user's file, too many files): coded, nothing stored.
 */
const FILE_MAX_BYTES = 4096;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function png(seed: number): Uint8Array {
  return new Uint8Array([...PNG_SIGNATURE, 0, 0, 0, 13, seed, 1, 2, 3]);
}

const UPLOAD = `mutation ($file: File!, $chatId: ID) {
  uploadFile(file: $file, chatId: $chatId) { id name mediaType size sha256 url }
}`;

interface Uploaded {
  id: string;
  name: string;
  mediaType: string;
  size: number;
  sha256: string;
  url: string;
}

interface GraphQLResult {
  data?: { uploadFile: Uploaded } | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** A multipart request as the spec has it: operations, map, then the file. */
async function upload(
  client: TestClient,
  bytes: Uint8Array,
  options: { name?: string; type?: string; chatId?: string } = {},
): Promise<GraphQLResult> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({ query: UPLOAD, variables: { file: null, chatId: options.chatId ?? null } }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set(
    '0',
    new Blob([new Uint8Array(bytes)], { type: options.type ?? 'application/octet-stream' }),
    options.name ?? 'shot.png',
  );
  const response = await fetch(client.httpUrl, {
    method: 'POST',
    headers: client.token ? { authorization: `Bearer ${client.token}` } : {},
    body: form,
  });
  return (await response.json()) as GraphQLResult;
}

async function uploaded(client: TestClient, bytes: Uint8Array, name?: string): Promise<Uploaded> {
  const result = await upload(client, bytes, { name });
  expect(result.errors).toBeUndefined();
  return result.data!.uploadFile;
}

const errorCode = (result: GraphQLResult) => result.errors?.[0]?.extensions?.code;

describe('attachments (issue #10)', () => {
  let server: TestServer;
  let llm: FakeLlm;
  const modelConfigs = new Map<FakeProviderKind, string>();

  beforeAll(async () => {
    llm = await startScriptedLlm();
    server = await startTestServer({
      env: {
        CHAT_ACQUIRE_INTERVAL_MS: '100',
        FILE_MAX_BYTES: String(FILE_MAX_BYTES),
        MESSAGE_MAX_FILES: '2',
      },
    });
    for (const kind of FAKE_PROVIDER_KINDS) {
      const { modelConfigId } = await configureFakeModel(server.admin, llm, {
        kind,
        supportsImages: true,
      });
      modelConfigs.set(kind, modelConfigId);
    }
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  it('sniffs the media type, records size and sha256, and stores the same bytes once', async () => {
    const member = await server.createMember();
    const bytes = png(1);
    const first = await upload(member.client, bytes, {
      name: 'C:\\shots\\screen.png',
      type: 'text/plain',
    });
    expect(first.data?.uploadFile).toMatchObject({
      name: 'screen.png',
      mediaType: 'image/png',
      size: bytes.length,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const again = await uploaded(member.client, bytes, 'other-name.png');
    expect(again.id).toBe(first.data?.uploadFile.id);
    const text = await uploaded(
      member.client,
      new TextEncoder().encode('line 1\nline 2\n'),
      'a.log',
    );
    expect(text.mediaType).toBe('text/plain');
  });

  it('serves a file to its owner only', async () => {
    const owner = await server.createMember();
    const other = await server.createMember();
    const bytes = png(2);
    const file = await uploaded(owner.client, bytes);
    const fileUrl = new URL(file.url, owner.client.httpUrl).toString();
    const get = (token: string | null) =>
      fetch(fileUrl, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    const mine = await get(owner.client.token);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await mine.arrayBuffer())).toEqual(bytes);
    expect((await get(other.client.token)).status).toBe(404);
    expect((await get(null)).status).toBe(401);
    // A malformed id (bad percent-encoding, not a uuid) is a 404 like any unknown file.
    const malformed = (path: string) =>
      fetch(new URL(path, owner.client.httpUrl), {
        headers: { authorization: `Bearer ${owner.client.token}` },
      });
    expect((await malformed('/files/%E0%A4%A')).status).toBe(404);
    expect((await malformed('/files/not-a-uuid')).status).toBe(404);
  });

  it('refuses an oversized file, an unknown type and a form without headers, storing nothing', async () => {
    const member = await server.createMember();
    const oversized = new Uint8Array(FILE_MAX_BYTES + 1).fill(0x61);
    expect(errorCode(await upload(member.client, oversized, { name: 'big.txt' }))).toBe(
      'BAD_USER_INPUT',
    );
    const binary = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]);
    expect(errorCode(await upload(member.client, binary, { name: 'a.out' }))).toBe(
      'BAD_USER_INPUT',
    );
    // A cross-site form cannot set Authorization or the CSRF header: refused before running.
    const anonymous = await upload(server.anonymous, png(3));
    expect(errorCode(anonymous)).toBe('FORBIDDEN');
    // Nothing was stored: the same bytes within the limit come back as a new, first upload.
    const fits = await uploaded(member.client, oversized.slice(0, FILE_MAX_BYTES));
    expect(fits.size).toBe(FILE_MAX_BYTES);
  });

  it("refuses another user's file and too many files, creating no chat", async () => {
    const owner = await server.createMember();
    const thief = await server.createMember();
    const file = await uploaded(owner.client, png(4));
    const stolen = await thief.client.expectError(CreateChatMutation, {
      input: { text: 'look', fileIds: [file.id] },
    });
    expect(stolen.codes).toEqual(['NOT_FOUND']);
    const three = await Promise.all([5, 6, 7].map((seed) => uploaded(owner.client, png(seed))));
    const tooMany = await owner.client.expectError(CreateChatMutation, {
      input: { text: 'look', fileIds: three.map((f) => f.id) },
    });
    expect(tooMany.codes).toEqual(['BAD_USER_INPUT']);
    const chats = await thief.client.query<{ chats: { edges: unknown[] } }>(
      '{ chats(first: 10) { edges { node { id } } } }',
    );
    expect(chats.chats.edges).toHaveLength(0);
  });

  it.each(FAKE_PROVIDER_KINDS)(
    'gives an image and a text file to %s in its own format',
    async (kind) => {
      const member = await server.createMember();
      const image = await uploaded(member.client, png(10));
      const log = await uploaded(
        member.client,
        new TextEncoder().encode('ERROR at line 3'),
        'x.log',
      );
      const text = `what is in these (${kind})`;
      const gate = createGate();
      // The text file is inlined after the message's own text.
      const asking = (body: ChatRequestBody) => isTurn(body) && lastUserText(body).startsWith(text);
      llm.script({ match: asking, gate: gate.promise, text: 'A screenshot and a log.' });
      const created = await member.client.query(CreateChatMutation, {
        input: { text, modelConfigId: modelConfigs.get(kind), fileIds: [image.id, log.id] },
      });
      const chatId = created.createChat.id;
      const stream = subscribeChat(member.client, chatId);
      try {
        await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
        gate.open();
        await stream.waitFor((e) => isStatus('WAITING')(e) || isStatus('ERROR')(e));
        const { chat, messages } = await loadHistory(member.client, chatId);
        expect(chat.lastError).toBeNull();
        expect(messages[0]?.parts.map((p) => p.type)).toEqual(['TEXT', 'FILE', 'FILE']);
      } finally {
        await stream.close();
      }
      const request = llm.requests.find((r) => asking(r.body))!;
      const base64 = Buffer.from(png(10)).toString('base64');
      const messages = request.raw.messages as { role: string; content: unknown }[];
      const user = messages.find((m) => m.role === 'user')!;
      const serialized = JSON.stringify(user.content);
      expect(serialized).toContain('ERROR at line 3');
      if (kind === 'ANTHROPIC') {
        expect(user.content).toContainEqual({
          type: 'image',
          source: { type: 'base64', media_type: 'image/png', data: base64 },
        });
      } else {
        expect(user.content).toContainEqual({
          type: 'image_url',
          image_url: { url: `data:image/png;base64,${base64}` },
        });
      }
      const files = await member.client.query<{ chat: { files: { id: string }[] } }>(
        'query ($id: ID!) { chat(id: $id) { files { id } } }',
        { id: chatId },
      );
      expect(files.chat.files.map((f) => f.id).sort()).toEqual([image.id, log.id].sort());
    },
  );

  it('keeps the files of a message queued behind a running turn and gives them to its turn', async () => {
    const member = await server.createMember();
    const thief = await server.createMember();
    const image = await uploaded(member.client, png(20));
    const stolen = await uploaded(thief.client, png(21));
    const gate = createGate();
    const first = 'hold the turn (queue)';
    const queuedText = 'and this screenshot (queue)';
    llm.script(
      { match: (b) => isTurn(b) && lastUserText(b) === first, gate: gate.promise, text: 'held' },
      { match: (b) => isTurn(b) && lastUserText(b).startsWith(queuedText), text: 'seen' },
    );
    const created = await member.client.query(CreateChatMutation, {
      input: { text: first, modelConfigId: modelConfigs.get('OPENAI_COMPATIBLE') },
    });
    const chatId = created.createChat.id;
    const stream = subscribeChat(member.client, chatId);
    try {
      await stream.waitFor(isStatus('RUNNING'));
      // Another user's file is NOT_FOUND on the queued path too, and nothing is queued.
      const refused = await member.client.expectError(SendMessageMutation, {
        input: { chatId, text: queuedText, fileIds: [stolen.id] },
      });
      expect(refused.codes).toEqual(['NOT_FOUND']);
      const sent = await member.client.query<{
        sendMessage: { queuedMessage: { id: string; files: { fileId: string }[] } | null };
      }>(
        `mutation ($input: SendMessageInput!) {
          sendMessage(input: $input) { queuedMessage { id files { fileId name mediaType url } } }
        }`,
        { input: { chatId, text: queuedText, fileIds: [image.id] } },
      );
      expect(sent.sendMessage.queuedMessage?.files.map((f) => f.fileId)).toEqual([image.id]);
      const queue = await member.client.query<{
        chat: { queuedMessages: { files: { fileId: string }[] }[]; files: { id: string }[] };
      }>(
        'query ($id: ID!) { chat(id: $id) { queuedMessages { files { fileId } } files { id } } }',
        {
          id: chatId,
        },
      );
      expect(queue.chat.queuedMessages).toEqual([{ files: [{ fileId: image.id }] }]);
      expect(queue.chat.files.map((f) => f.id)).toEqual([image.id]);
      gate.open();
      await waitForStatusCount(stream, 'WAITING', 1);
    } finally {
      await stream.close();
    }
    const { messages, chat } = await loadHistory(member.client, chatId);
    expect(chat.lastError).toBeNull();
    const promoted = messages.find((m) => m.role === 'USER' && m.parts.length === 2);
    expect(promoted?.parts.map((p) => p.type)).toEqual(['TEXT', 'FILE']);
    const request = llm.requests.find(
      (r) => isTurn(r.body) && lastUserText(r.body).startsWith(queuedText),
    )!;
    const base64 = Buffer.from(png(20)).toString('base64');
    expect(JSON.stringify(request.raw.messages)).toContain(`data:image/png;base64,${base64}`);
  });

  it("editMessage replaces, keeps or drops the files, and refuses files not the editor's", async () => {
    const member = await server.createMember();
    const thief = await server.createMember();
    const image = await uploaded(member.client, png(30));
    const log = await uploaded(member.client, new TextEncoder().encode('edit log'), 'e.log');
    const stolen = await uploaded(thief.client, png(31));
    const prefix = 'edit me';
    const answer = () =>
      llm.script({ match: (b) => isTurn(b) && lastUserText(b).startsWith(prefix), text: 'ok' });
    answer();
    const created = await member.client.query(CreateChatMutation, {
      input: {
        text: `${prefix} 0`,
        modelConfigId: modelConfigs.get('OPENAI_COMPATIBLE'),
        fileIds: [image.id],
      },
    });
    const chatId = created.createChat.id;
    const EDIT = `mutation ($input: EditMessageInput!) { editMessage(input: $input) { id } }`;
    /** The chat's one live USER message: its id and the files it carries. */
    const userMessage = async () => {
      const data = await member.client.query<{
        chat: {
          messages: {
            edges: { node: { id: string; role: string; parts: { fileId?: string | null }[] } }[];
          };
        };
      }>(
        `query ($id: ID!) { chat(id: $id) { messages(first: 50) { edges { node {
          id role parts { ... on FilePart { fileId } } } } } } }`,
        { id: chatId },
      );
      const users = data.chat.messages.edges.map((e) => e.node).filter((m) => m.role === 'USER');
      expect(users).toHaveLength(1);
      return {
        id: users[0]!.id,
        fileIds: users[0]!.parts.flatMap((p) => (p.fileId ? [p.fileId] : [])),
      };
    };

    const refused = await member.client.expectError(EDIT, {
      input: { messageId: (await userMessage()).id, text: `${prefix} 1`, fileIds: [stolen.id] },
    });
    expect(refused.codes).toEqual(['NOT_FOUND']);
    expect((await userMessage()).fileIds).toEqual([image.id]);

    answer();
    await member.client.query(EDIT, {
      input: { messageId: (await userMessage()).id, text: `${prefix} 2` },
    });
    expect((await userMessage()).fileIds).toEqual([image.id]);

    answer();
    await member.client.query(EDIT, {
      input: { messageId: (await userMessage()).id, text: `${prefix} 3`, fileIds: [log.id] },
    });
    expect((await userMessage()).fileIds).toEqual([log.id]);

    answer();
    await member.client.query(EDIT, {
      input: { messageId: (await userMessage()).id, text: `${prefix} 4`, fileIds: [] },
    });
    expect((await userMessage()).fileIds).toEqual([]);
  });
});
