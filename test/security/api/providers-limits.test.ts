import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import type { TestClient } from '../../support/client.js';
import { configureFakeModel, isTurn, startScriptedLlm } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, partly-held items: provider URLs at cloud metadata addresses, unbounded prices and
 * limits, hundreds of API tokens per member, and `ADMIN` created beside `admin`.
 */
const CREATE_PROVIDER = `mutation ($baseUrl: String!) {
  createProvider(input: { kind: OPENAI_COMPATIBLE, displayName: "Attack", baseUrl: $baseUrl }) { id }
}`;
const CHAT_STATUS = 'query ($id: ID!) { chat(id: $id) { status lastError } }';

describe('security: provider URLs, money bounds, token cap, usernames (issue #8)', () => {
  let server: TestServer;
  let llm: FakeLlm;
  let admin: TestClient;
  let providerId: string;
  let modelConfigId: string;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    server = await startTestServer({ env: { CHAT_ACQUIRE_INTERVAL_MS: '100' } });
    admin = server.admin;
    // Loopback stays allowed: the fake LLM is on 127.0.0.1.
    ({ providerId, modelConfigId } = await configureFakeModel(admin, llm));
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  async function expectBadInput(
    client: TestClient,
    operation: string,
    variables: Record<string, unknown>,
    field: string,
  ) {
    const { errors } = await client.expectError(operation, variables);
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.170.2/v1',
    'http://[fe80::1]/v1',
    'http://[fd00:ec2::254]/v1',
    'http://100.100.100.200/v1',
    'http://metadata.google.internal/computeMetadata/v1',
    'http://[::ffff:169.254.169.254]/v1',
    // Decimal form of 169.254.169.254; the URL parser normalises it.
    'http://2852039166/v1',
  ])('refuses a provider at %s', async (baseUrl) => {
    const before = await admin.query<{ providers: unknown[] }>('{ providers { id } }');
    await expectBadInput(admin, CREATE_PROVIDER, { baseUrl }, 'baseUrl');
    await expectBadInput(
      admin,
      'mutation ($id: ID!, $baseUrl: String!) { updateProvider(input: { id: $id, baseUrl: $baseUrl }) { id } }',
      { id: providerId, baseUrl },
      'baseUrl',
    );
    const after = await admin.query<{ providers: unknown[] }>('{ providers { id } }');
    expect(after.providers).toHaveLength(before.providers.length);
  });

  it('checks again at request time: a stored metadata URL fails the turn without a call', async () => {
    // As if the name had resolved elsewhere when it was saved (DNS rebinding), or the row
    // predates the check.
    const member = (await server.createMember()).client;
    const rebound = await server.app.deps.prisma.provider.create({
      data: {
        kind: 'OPENAI_COMPATIBLE',
        displayName: 'Rebound',
        baseUrl: 'http://169.254.169.254/v1',
      },
    });
    const config = await admin.query<{ createModelConfig: { id: string } }>(
      `mutation ($providerId: ID!) { createModelConfig(input: { providerId: $providerId, model: "m", contextLimit: 1000 }) { id } }`,
      { providerId: rebound.id },
    );
    llm.reset();
    llm.script({ match: isTurn, text: 'must not be reached' });
    const created = await member.query<{ createChat: { id: string } }>(
      'mutation ($m: ID!) { createChat(input: { text: "hi", modelConfigId: $m }) { id } }',
      { m: config.createModelConfig.id },
    );
    const id = created.createChat.id;
    const stream = member.subscribe<{ chatEvents: { __typename: string; status?: string } }>(
      'subscription ($id: ID!) { chatEvents(chatId: $id) { __typename ... on StatusEvent { status } } }',
      { id },
    );
    try {
      await stream.waitFor((event) => event.chatEvents.status === 'ERROR');
    } finally {
      await stream.close();
    }
    const chat = await member.query<{ chat: { status: string; lastError: string } }>(CHAT_STATUS, {
      id,
    });
    expect(chat.chat.lastError).toContain('169.254.169.254');
    expect(chat.chat.lastError).toContain('ALLOW_PRIVATE_PROVIDER_URLS');
    // Refused before any request, and not retried (no RetryEvent) as a transient failure.
    expect(llm.requests.filter((request) => request.body.stream)).toHaveLength(0);
  });

  it('refuses prices and usage limits of 1e308 (and anything past the bound)', async () => {
    await expectBadInput(
      admin,
      'mutation ($p: ID!, $price: Float) { createModelConfig(input: { providerId: $p, model: "x", contextLimit: 1000, inputPriceMicros: $price }) { id } }',
      { p: providerId, price: 1e308 },
      'inputPriceMicros',
    );
    await expectBadInput(
      admin,
      'mutation ($id: ID!, $price: Float) { updateModelConfig(input: { id: $id, outputPriceMicros: $price }) { id } }',
      { id: modelConfigId, price: 1e13 },
      'outputPriceMicros',
    );
    await expectBadInput(
      admin,
      'mutation ($limit: Float) { setUsageLimit(input: { limitMicros: $limit, periodDays: 30 }) }',
      { limit: 1e308 },
      'limitMicros',
    );
    const config = await admin.query<{ modelConfigs: { id: string; outputPriceMicros: number }[] }>(
      '{ modelConfigs { id outputPriceMicros } }',
    );
    expect(config.modelConfigs.find((c) => c.id === modelConfigId)?.outputPriceMicros).toBe(
      2_000_000,
    );
  });

  it('caps API tokens at 50 per user, also under parallel requests', async () => {
    const { client: member } = await server.createMember();
    const create = 'mutation ($name: String!) { createApiToken(name: $name) { apiToken { id } } }';
    const mine = async () =>
      (await member.query<{ apiTokens: { id: string }[] }>('{ apiTokens { id } }')).apiTokens;
    // createMember made one; 44 more one by one, then 20 at once.
    for (let index = 0; index < 44; index += 1) {
      await member.query(create, { name: `t${index}` });
    }
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, index) => member.request(create, { name: `burst${index}` })),
    );
    const refused = burst.filter((result) => result.errors?.length);
    expect(refused).toHaveLength(15);
    expect(refused[0]!.errors![0]!.extensions).toMatchObject({ code: 'CONFLICT' });
    expect(await mine()).toHaveLength(50);

    // Revoking one makes room for one.
    // (Not the first: that is the one this client authenticates with.)
    const last = (await mine()).at(-1);
    await member.query('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id: last!.id });
    await member.query(create, { name: 'after-revoke' });
    expect((await member.expectError(create, { name: 'one-too-many' })).codes).toEqual([
      'CONFLICT',
    ]);
  });

  it('refuses a username that differs from an existing one only in case', async () => {
    const createUser =
      'mutation ($u: String!) { createUser(input: { username: $u, role: MEMBER }) { id } }';
    for (const username of ['ADMIN', 'Admin', 'aDmIn']) {
      expect((await admin.expectError(createUser, { u: username })).codes).toEqual(['CONFLICT']);
    }
    await admin.query(createUser, { u: 'Carol' });
    expect((await admin.expectError(createUser, { u: 'carol' })).codes).toEqual(['CONFLICT']);
    const users = await admin.query<{ users: { username: string }[] }>('{ users { username } }');
    expect(users.users.filter((u) => u.username.toLowerCase() === 'admin')).toHaveLength(1);
    expect(users.users.filter((u) => u.username.toLowerCase() === 'carol')).toHaveLength(1);
  });
});
