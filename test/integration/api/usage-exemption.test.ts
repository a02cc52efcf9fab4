import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../../support/client.js';
import { createDefaultModel } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const SET_LIMIT = `mutation ($input: SetUsageLimitInput!) { setUsageLimit(input: $input) }`;
const CREATE_CHAT = 'mutation { createChat(input: { text: "hello" }) { id } }';
const STATUS = '{ usageLimitStatus { limitMicros } }';

/** An admin exempts one user from the default usage limit ("no limit" per user, issue #14). */
describe('usage limit exemption', () => {
  let server: TestServer;
  let exempt: { id: string; client: TestClient };
  let other: { id: string; client: TestClient };

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
    exempt = await server.createMember();
    other = await server.createMember();
    // A default of 0 blocks everyone: spent (0) >= limit (0).
    await server.admin.query(SET_LIMIT, { input: { limitMicros: 0, periodDays: 30 } });
  });
  afterAll(() => server?.close());

  const codesOf = async (client: TestClient) => (await client.expectError(CREATE_CHAT)).codes;

  it('a user with no limit sends under a default that blocks everyone else', async () => {
    expect(await codesOf(exempt.client)).toEqual(['USAGE_LIMIT_EXCEEDED']);

    await server.admin.query(SET_LIMIT, {
      input: { userId: exempt.id, unlimited: true, periodDays: 30 },
    });

    await exempt.client.query(CREATE_CHAT);
    expect(await exempt.client.query(STATUS)).toEqual({ usageLimitStatus: { limitMicros: null } });
    expect(await codesOf(other.client)).toEqual(['USAGE_LIMIT_EXCEEDED']);

    // Removing the user's own row puts them back under the default.
    await server.admin.query(SET_LIMIT, { input: { userId: exempt.id, periodDays: 30 } });
    expect(await codesOf(exempt.client)).toEqual(['USAGE_LIMIT_EXCEEDED']);
  });

  it('refuses "no limit" as the default, beside a number, or from a member; nothing changes', async () => {
    const refusals: Array<[TestClient, Record<string, unknown>, string]> = [
      [server.admin, { unlimited: true, periodDays: 30 }, 'BAD_USER_INPUT'],
      [
        server.admin,
        { userId: other.id, unlimited: true, limitMicros: 5, periodDays: 30 },
        'BAD_USER_INPUT',
      ],
      [other.client, { userId: other.id, unlimited: true, periodDays: 30 }, 'FORBIDDEN'],
    ];
    for (const [client, input, code] of refusals) {
      const { codes, errors } = await client.expectError(SET_LIMIT, { input });
      expect(codes).toEqual([code]);
      if (code === 'BAD_USER_INPUT') expect(errors[0]?.extensions?.['field']).toBe('unlimited');
    }
    expect(await codesOf(other.client)).toEqual(['USAGE_LIMIT_EXCEEDED']);
    expect(await other.client.query(STATUS)).toEqual({ usageLimitStatus: { limitMicros: 0 } });
  });
});
