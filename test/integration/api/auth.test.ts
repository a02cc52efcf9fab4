import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../support/server.js';

describe('authentication and users (B4, B5)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
  });
  afterAll(() => server?.close());

  it('rejects a request without a token with UNAUTHENTICATED', async () => {
    const { codes } = await server.anonymous.expectError('{ viewer { id } }');
    expect(codes).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects a wrong token with UNAUTHENTICATED', async () => {
    const { codes } = await server.admin.withToken('nope').expectError('{ viewer { id } }');
    expect(codes).toEqual(['UNAUTHENTICATED']);
  });

  it('serves /healthz and /readyz without a token', async () => {
    const base = server.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('bootstraps the admin from BOOTSTRAP_ADMIN_TOKEN', async () => {
    const data = await server.admin.query<{ viewer: { username: string; role: string } }>(
      '{ viewer { username role } }',
    );
    expect(data.viewer).toEqual({ username: 'admin', role: 'ADMIN' });
  });

  it('lets an admin create a member who can use their own token', async () => {
    const member = await server.createMember('alice');
    const data = await member.client.query<{ viewer: { id: string; role: string } }>(
      '{ viewer { id role } }',
    );
    expect(data.viewer).toEqual({ id: member.id, role: 'MEMBER' });
  });

  it('forbids members from admin mutations and changes nothing', async () => {
    const member = await server.createMember();
    const { codes } = await member.client.expectError(
      'mutation { createUser(input: { username: "mallory", role: ADMIN }) { id } }',
    );
    expect(codes).toEqual(['FORBIDDEN']);
    const users = await server.admin.query<{ users: { username: string }[] }>(
      '{ users { username } }',
    );
    expect(users.users.map((user) => user.username)).not.toContain('mallory');
  });

  it('rejects a bad username with BAD_USER_INPUT naming the field', async () => {
    const { errors } = await server.admin.expectError(
      'mutation { createUser(input: { username: " bad name", role: MEMBER }) { id } }',
    );
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'username' });
  });

  it('reports a duplicate username as CONFLICT', async () => {
    await server.createMember('bob');
    const { codes } = await server.admin.expectError(
      'mutation { createUser(input: { username: "bob", role: MEMBER }) { id } }',
    );
    expect(codes).toEqual(['CONFLICT']);
  });

  it('stores tokens as hashes, shows the secret once, and revokes them', async () => {
    const member = await server.createMember();
    const created = await member.client.query<{
      createApiToken: { token: string; apiToken: { id: string; name: string } };
    }>('mutation { createApiToken(name: "laptop") { token apiToken { id name } } }');
    const { token, apiToken } = created.createApiToken;
    const stored = await server.app.deps.prisma.apiToken.findUniqueOrThrow({
      where: { id: apiToken.id },
    });
    expect(stored.tokenHash).not.toContain(token);
    const second = member.client.withToken(token);
    expect((await second.query<{ viewer: { id: string } }>('{ viewer { id } }')).viewer.id).toBe(
      member.id,
    );
    await member.client.query('mutation ($id: ID!) { revokeApiToken(id: $id) }', {
      id: apiToken.id,
    });
    expect((await second.expectError('{ viewer { id } }')).codes).toEqual(['UNAUTHENTICATED']);
  });

  it("treats another user's token as NOT_FOUND", async () => {
    const alice = await server.createMember();
    const bob = await server.createMember();
    const created = await alice.client.query<{ createApiToken: { apiToken: { id: string } } }>(
      'mutation { createApiToken(name: "x") { apiToken { id } } }',
    );
    const { codes } = await bob.client.expectError(
      'mutation ($id: ID!) { revokeApiToken(id: $id) }',
      {
        id: created.createApiToken.apiToken.id,
      },
    );
    expect(codes).toEqual(['NOT_FOUND']);
  });

  it('answers GraphQL validation errors with BAD_USER_INPUT', async () => {
    const { codes } = await server.admin.expectError('{ viewer { nope } }');
    expect(codes).toEqual(['BAD_USER_INPUT']);
  });

  it('answers WebSocket syntax and validation errors with BAD_USER_INPUT and keeps the socket', async () => {
    for (const query of ['subscription { chatEvents(', 'subscription { nope }']) {
      const stream = server.admin.subscribe(query);
      try {
        const errors = (await stream.error()) as { extensions?: { code?: string } }[][];
        expect(errors.flat().map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      } finally {
        await stream.close();
      }
    }
  });

  it('answers GraphQL over GET as well as POST (B1)', async () => {
    const url = new URL(server.url);
    url.searchParams.set('query', '{ viewer { username } }');
    const response = await fetch(url, {
      headers: {
        authorization: `Bearer ${server.env['BOOTSTRAP_ADMIN_TOKEN']}`,
        accept: 'application/json',
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: { username: 'admin' } } });
  });
});
