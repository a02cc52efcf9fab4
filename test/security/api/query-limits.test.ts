import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChat, createDefaultModel } from '../../support/fixtures.js';
import type { GraphQLResponse, TestClient } from '../../support/client.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, rows 3 and 4: one query must not be able to take a replica down. Each attack is the
 * one from the issue; each must be refused with a coded error before anything executes, over HTTP
 * and over WebSocket, and the server must stay healthy.
 */

const MB = 1024 * 1024;

/** `chat { messages(first:100) { … node { chat { messages(first:100) … } } } }`, `levels` deep. */
function nestedMessages(levels: number): string {
  let inner = 'id parts { type }';
  for (let level = 0; level < levels; level++) {
    const node = level === 0 ? inner : `chat { ${inner} }`;
    inner = `messages(first: 100) { edges { node { ${node} } } }`;
  }
  return `query ($id: ID!) { chat(id: $id) { ${inner} } }`;
}

/** The second attack: `count` aliases of a costly chat list. */
const aliases = (count: number) =>
  `{ ${Array.from(
    { length: count },
    (_, i) =>
      `a${i}: chats(first: 100) { edges { node { id messages(first: 100) { edges { node { id } } } usage { costMicros } } } }`,
  ).join(' ')} }`;
const ALIASES_ATTACK = aliases(1000);

describe('query limits (issue #8, rows 3 and 4)', () => {
  let server: TestServer;
  let member: TestClient;
  let chatId: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
    member = (await server.createMember()).client;
    chatId = (await createChat(member)).id;
  });
  afterAll(() => server?.close());

  async function expectHealthy() {
    const response = await fetch(new URL('/healthz', server.url));
    expect(response.status).toBe(200);
  }

  /** The refusal: one BAD_USER_INPUT error naming the limit, no data at all (nothing ran). */
  function expectRefused(result: GraphQLResponse<unknown>, limit: RegExp) {
    expect(result.data ?? undefined).toBeUndefined();
    expect(result.errors?.map((error) => error.extensions?.['code'])).toContain('BAD_USER_INPUT');
    expect(result.errors?.map((error) => error.message).join('\n')).toMatch(limit);
  }

  it('refuses the nested messages→chat→messages query, 4 levels deep, over HTTP', async () => {
    const result = await member.request(nestedMessages(4), { id: chatId });
    expectRefused(result, /depth|cost/i);
    await expectHealthy();
  });

  it('refuses it over WebSocket too, and keeps the socket for the next operation', async () => {
    const stream = member.subscribe(nestedMessages(4), { id: chatId });
    try {
      const errors = (await stream.error()) as { extensions?: { code?: string } }[][];
      expect(errors.flat().map((error) => error.extensions?.code)).toContain('BAD_USER_INPUT');
      expect(stream.events).toEqual([]);
    } finally {
      await stream.close();
    }
    await expectHealthy();
  });

  it('still answers the same query one level deep (normal use is not limited)', async () => {
    const result = await member.request(nestedMessages(1), { id: chatId });
    expect(result.errors).toBeUndefined();
  });

  it('refuses 1000 aliases of chats(first:100){… messages(first:100) … usage}', async () => {
    // Its 120 kB of text already exceed the length limit; the alias and cost limits hold too.
    expectRefused(await member.request(ALIASES_ATTACK), /longer than|aliases|cost/i);
    expectRefused(await member.request(aliases(50)), /aliases/i);
    await expectHealthy();
  });

  it('refuses the aliases attack over WebSocket as well', async () => {
    const stream = member.subscribe(ALIASES_ATTACK);
    try {
      const errors = (await stream.error()) as { extensions?: { code?: string } }[][];
      expect(errors.flat().map((error) => error.extensions?.code)).toContain('BAD_USER_INPUT');
    } finally {
      await stream.close();
    }
  });

  it('refuses too many directives and too many tokens', async () => {
    const directives = Array.from({ length: 60 }, () => '@include(if: true)').join(' ');
    expectRefused(await member.request(`{ viewer { id ${directives} } }`), /directives/i);
    const tokens = `{ viewer { ${'id '.repeat(6_000)} } }`;
    expectRefused(await member.request(tokens), /token/i);
  });

  it('refuses query text above the length limit before parsing it', async () => {
    const padded = `{ viewer { id } }${' '.repeat(150_000)}`;
    expectRefused(await member.request(padded), /longer than 100000 characters/);
  });

  it('answers 413 to a 20 MB body without reading it, and stays healthy', async () => {
    const { status, body } = await postOversized(server.url, 20 * MB, member.token!);
    expect(status).toBe(413);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    await expectHealthy();
    // And a normal request on a new connection is served.
    const viewer = await member.query<{ viewer: { id: string } }>('{ viewer { id } }');
    expect(viewer.viewer.id).toEqual(expect.any(String));
  });

  it('answers 411 to a body without Content-Length (chunked) instead of buffering it', async () => {
    const { status, body } = await postOversized(server.url, 2 * MB, member.token!, {
      chunked: true,
    });
    expect(status).toBe(411);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('LENGTH_REQUIRED');
  });

  describe('page size', () => {
    it('refuses first/last above 100 or below 0 on EVERY connection field, naming the argument', async () => {
      // Walk the served schema: a connection added later is covered by this test, or fails it
      // (it must then say how to reach the type holding the field).
      const schema = await member.query<{
        __schema: {
          queryType: { name: string };
          types: {
            name: string;
            kind: string;
            fields: { name: string; args: { name: string }[] }[] | null;
          }[];
        };
      }>('{ __schema { queryType { name } types { name kind fields { name args { name } } } } }');
      const reach: Record<string, (selection: string) => [string, Record<string, unknown>]> = {
        [schema.__schema.queryType.name]: (selection) => [`query { ${selection} }`, {}],
        Chat: (selection) => [
          `query ($id: ID!) { chat(id: $id) { ${selection} } }`,
          { id: chatId },
        ],
      };
      const checked: string[] = [];
      for (const type of schema.__schema.types) {
        if (type.kind !== 'OBJECT' || type.name.startsWith('__')) continue;
        for (const field of type.fields ?? []) {
          const sizes = field.args
            .map((arg) => arg.name)
            .filter((n) => n === 'first' || n === 'last');
          if (sizes.length === 0) continue;
          const path = reach[type.name];
          expect(path, `no way to reach ${type.name}.${field.name} in this test`).toBeDefined();
          for (const argument of sizes) {
            for (const value of [101, 1_000_000, -1]) {
              const [query, variables] = path!(
                `${field.name}(${argument}: ${value}) { edges { node { __typename } } }`,
              );
              const result = await member.request(query, variables);
              const where = `${type.name}.${field.name}(${argument}: ${value})`;
              const errors = result.errors ?? [];
              expect(errors.length, where).toBeGreaterThan(0);
              expect(new Set(errors.map((e) => e.extensions?.['code'])), where).toEqual(
                new Set(['BAD_USER_INPUT']),
              );
              // A huge literal also exceeds the cost limit; the page-size error is among them.
              expect(
                errors.map((e) => e.extensions?.['field']),
                where,
              ).toContain(argument);
            }
            const [ok, variables] = path!(
              `${field.name}(${argument}: 100) { edges { node { __typename } } }`,
            );
            expect(
              (await member.request(ok, variables)).errors,
              `${field.name} at 100`,
            ).toBeUndefined();
          }
          checked.push(`${type.name}.${field.name}`);
        }
      }
      // The two connections of today's schema, at least.
      expect(checked).toEqual(expect.arrayContaining(['Query.chats', 'Chat.messages']));
    });

    it('refuses a page size passed as a variable too (the cost limit only sees literals)', async () => {
      const result = await member.request(
        'query ($id: ID!, $n: Int) { chat(id: $id) { messages(first: $n) { edges { node { id } } } } }',
        { id: chatId, n: 5_000 },
      );
      expect(result.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.extensions?.['field']).toBe('first');
    });
  });
});

/**
 * POSTs `size` bytes (sent from one reused chunk, so the test itself holds no 20 MB) and resolves
 * with the answer as soon as it arrives; the server may close the connection while the body is
 * still being written, which is the point.
 */
function postOversized(
  url: string,
  size: number,
  token: string,
  options: { chunked?: boolean } = {},
): Promise<{ status: number; body: string }> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': size }),
      },
    });
    req.on('response', (response) => {
      answered = true;
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString() }),
      );
      response.on('close', () => req.destroy());
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    let sent = 0;
    const write = () => {
      while (!answered && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      if (!answered) req.end();
    };
    write();
  });
}
