import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createBackendEnv, type BackendEnv } from '../../support/backend.js';
import type { TestClient } from '../../support/client.js';
import { createDefaultModel, subscriptionErrorCodes } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, partials: a per-user rate limit on mutations. With a low MUTATION_RATE_LIMIT a member
 * flooding mutations is refused with RATE_LIMITED (HTTP 429) and nothing runs, over HTTP and over
 * WebSocket; queries and other users are unaffected; with Redis the count is shared by replicas.
 */

// Above the admin's own set-up mutations (model, members), so only the floods reach it.
const LIMIT = 20;
const LIMITED_ENV = {
  DAEMON_ENABLED: 'false',
  MUTATION_RATE_LIMIT: String(LIMIT),
  // Longer than any test here: no window ends mid-test.
  MUTATION_RATE_WINDOW_MS: String(10 * 60_000),
};
const CREATE = 'mutation ($t: String!) { createChat(input: { text: $t }) { id } }';

describe('per-user mutation rate limit (issue #8, partials)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: LIMITED_ENV });
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());

  const chatsOf = (userId: string) =>
    server.app.deps.prisma.chat.count({ where: { ownerId: userId } });

  async function flood(client: TestClient, count: number) {
    const codes: string[] = [];
    for (let i = 0; i < count; i++) {
      const result = await client.request(CREATE, { t: `flood ${i}` });
      codes.push(String(result.errors?.[0]?.extensions?.['code'] ?? 'OK'));
    }
    return codes;
  }

  it(`refuses mutations past ${LIMIT} with RATE_LIMITED (429) and runs none of them`, async () => {
    const { id, client } = await server.createMember();
    const codes = await flood(client, LIMIT + 3);
    expect(codes).toEqual([...Array(LIMIT).fill('OK'), ...Array(3).fill('RATE_LIMITED')]);
    expect(await chatsOf(id)).toBe(LIMIT);

    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${client.token}` },
      body: JSON.stringify({ query: CREATE, variables: { t: 'one more' } }),
    });
    expect(response.status).toBe(429);
    expect(await chatsOf(id)).toBe(LIMIT);

    // Queries are not limited; another member has a budget of their own.
    expect(await client.query('{ viewer { id } }')).toEqual({ viewer: { id } });
    const other = await server.createMember();
    expect(await flood(other.client, 1)).toEqual(['OK']);
  });

  it('cannot be bypassed over WebSocket: no mutation runs there', async () => {
    const { id, client } = await server.createMember();
    expect(await flood(client, LIMIT)).toEqual(Array(LIMIT).fill('OK'));
    // WebSocket operations go through Yoga's envelop as a GET request, and Yoga runs mutations
    // only from POSTs: over WebSocket a mutation is refused whatever the count.
    const stream = client.subscribe(CREATE, { t: 'over ws' });
    try {
      expect(subscriptionErrorCodes(await stream.error())).toEqual(['BAD_REQUEST']);
    } finally {
      await stream.close();
    }
    expect(await chatsOf(id)).toBe(LIMIT);
  });

  // Two replicas share the count only through Redis: this one exists on the services backend.
  if (backend === 'services') {
    describe('across replicas', () => {
      let shared: BackendEnv;
      let a: TestServer;
      let b: TestServer;
      beforeAll(async () => {
        shared = await createBackendEnv();
        a = await startTestServer({ env: LIMITED_ENV, backendEnv: shared });
        b = await startTestServer({
          env: { ...LIMITED_ENV, BOOTSTRAP_ADMIN_TOKEN: a.env['BOOTSTRAP_ADMIN_TOKEN']! },
          backendEnv: shared,
        });
        await createDefaultModel(a);
      });
      afterAll(async () => {
        await b?.close();
        await a?.close();
        await shared?.cleanup();
      });

      it('holds the limit for one user spread over two replicas', async () => {
        const { client } = await a.createMember();
        const onB = b.anonymous.withToken(client.token);
        const half = LIMIT / 2;
        expect(await flood(client, half)).toEqual(Array(half).fill('OK'));
        expect(await flood(onB, half + 1)).toEqual([...Array(half).fill('OK'), 'RATE_LIMITED']);
        expect(await flood(client, 1)).toEqual(['RATE_LIMITED']);
      });
    });
  }
});
