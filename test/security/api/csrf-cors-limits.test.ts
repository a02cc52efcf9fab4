import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createDefaultModel } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, partials: "CORS reflects any origin with credentials and form-encoded/multipart POSTs
 * run mutations". Browsers send form, multipart and text/plain POSTs cross-site without a
 * preflight; none of them may run anything. CORS headers go only to CORS_ORIGINS, never with
 * credentials.
 */

const APP_ORIGIN = 'https://app.example.com';
const EVIL_ORIGIN = 'https://evil.example';
const MUTATION = 'mutation { createChat(input: { text: "csrf" }) { id } }';

describe('CSRF prevention and CORS (issue #8, partials)', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({
      env: { DAEMON_ENABLED: 'false', CORS_ORIGINS: `${APP_ORIGIN}, http://localhost:5173` },
    });
    await createDefaultModel(server);
    token = (await server.createMember()).client.token!;
  });
  afterAll(() => server?.close());

  const chatCount = () => server.app.deps.prisma.chat.count();

  async function expectForbidden(response: Response) {
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
  }

  it('runs no mutation sent form-encoded, multipart or as text/plain, even with a token', async () => {
    const before = await chatCount();
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: MUTATION }));
    form.set('map', '{}');
    const bodies: [string, RequestInit][] = [
      ['form-encoded', { body: new URLSearchParams({ query: MUTATION }) }],
      ['multipart', { body: form }],
      [
        'text/plain',
        {
          body: JSON.stringify({ query: MUTATION }),
          headers: { 'content-type': 'text/plain;charset=UTF-8' },
        },
      ],
    ];
    for (const [kind, init] of bodies) {
      for (const authorization of [undefined, `Bearer ${token}`]) {
        // Uploads (issue #10) are multipart with Authorization, which a cross-site form cannot
        // send (a script must pass a CORS preflight to add it): only that combination runs.
        if (kind === 'multipart' && authorization) continue;
        const response = await fetch(server.url, {
          method: 'POST',
          ...init,
          headers: {
            ...(init.headers as Record<string, string> | undefined),
            ...(authorization ? { authorization } : {}),
            origin: EVIL_ORIGIN,
          },
        });
        await expectForbidden(response);
        expect(response.headers.get('access-control-allow-origin'), kind).toBeNull();
      }
    }
    expect(await chatCount()).toBe(before);
  });

  it('refuses a GET without a preflight-forcing header, and serves one with Authorization', async () => {
    const url = new URL(server.url);
    url.searchParams.set('query', '{ viewer { id } }');
    await expectForbidden(await fetch(url));
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const withHeader = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
    // Past CSRF prevention; then authentication decides.
    expect(
      ((await withHeader.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!
        .extensions.code,
    ).toBe('UNAUTHENTICATED');
  });

  it('still runs a JSON POST', async () => {
    const before = await chatCount();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: MUTATION }),
    });
    expect(response.status).toBe(200);
    expect(await chatCount()).toBe(before + 1);
  });

  async function preflight(origin: string) {
    return fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
  }

  it('sends no CORS headers to a foreign origin, on preflight or request', async () => {
    const options = await preflight(EVIL_ORIGIN);
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
    expect(options.headers.get('access-control-allow-credentials')).toBeNull();
    const post = await fetch(server.url, {
      method: 'POST',
      headers: {
        origin: EVIL_ORIGIN,
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
    expect(post.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows the CORS_ORIGINS, echoing only that origin and never with credentials', async () => {
    for (const origin of [APP_ORIGIN, 'http://localhost:5173']) {
      const options = await preflight(origin);
      expect(options.headers.get('access-control-allow-origin')).toBe(origin);
      expect(options.headers.get('access-control-allow-credentials')).not.toBe('true');
      expect(options.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'authorization',
      );
    }
  });

  it('defaults to same origin only, and refuses a malformed CORS_ORIGINS at start', () => {
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example:8443' }).CORS_ORIGINS,
    ).toEqual(['https://a.example', 'https://b.example:8443']);
    for (const bad of ['*', 'https://a.example/', 'https://a.example/path', 'not a url']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
  });
});
