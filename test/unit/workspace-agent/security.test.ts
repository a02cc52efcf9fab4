import { promises as fs } from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { MAX_BODY_BYTES } from '../../../src/workspace/agent/index.js';
import { WorkspaceAgentClient } from '../../../src/workspace/agent-client.js';
import { expectAgentError, startAgentFixture, TEST_TOKEN, type AgentFixture } from './support.js';

let agent: AgentFixture;
afterEach(async () => {
  await agent.close();
  vi.unstubAllEnvs();
});

describe('authentication', () => {
  beforeEach(async () => {
    agent = await startAgentFixture();
  });

  it('answers health without a token', async () => {
    const response = await fetch(`${agent.url}/api/v0/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('refuses a missing or wrong token with 401', async () => {
    const missing = await fetch(`${agent.url}/api/v0/processes`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: { code: 'UNAUTHENTICATED', message: expect.any(String) },
    });

    const wrong = new WorkspaceAgentClient({ url: agent.url, token: `${TEST_TOKEN}x` });
    await expectAgentError(wrong.listProcesses(), 'UNAUTHENTICATED', 401);
    await expectAgentError(
      wrong.writeFile({ path: 'x.txt', content: 'x' }),
      'UNAUTHENTICATED',
      401,
    );
    await expect(fs.access(path.join(agent.root, 'x.txt'))).rejects.toThrow();
  });

  it('reports an unreachable agent as AGENT_UNREACHABLE', async () => {
    const closed = agent;
    agent = await startAgentFixture(); // for afterEach; started first so it cannot reuse the port
    await closed.close();
    const gone = new WorkspaceAgentClient({ url: closed.url, token: TEST_TOKEN });
    await expectAgentError(gone.health(), 'AGENT_UNREACHABLE', 0);
  });
});

describe('requests', () => {
  beforeEach(async () => {
    agent = await startAgentFixture();
  });

  const post = (route: string, body: string) =>
    fetch(`${agent.url}/api/v0${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body,
    });

  it('refuses bodies over the size cap with 413', async () => {
    const content = 'x'.repeat(MAX_BODY_BYTES);
    await expectAgentError(
      agent.client.writeFile({ path: 'big.txt', content }),
      'PAYLOAD_TOO_LARGE',
      413,
    );
    await expect(fs.access(path.join(agent.root, 'big.txt'))).rejects.toThrow();
  });

  it('refuses invalid JSON, unknown fields and unknown routes', async () => {
    const invalid = await post('/files/read', '{"path":');
    expect(invalid.status).toBe(400);
    const misspelt = await post(
      '/processes/start',
      JSON.stringify({ command: 'true', run_in_background: true }),
    );
    expect(misspelt.status).toBe(400);
    expect(((await misspelt.json()) as { error: { message: string } }).error.message).toContain(
      'run_in_background',
    );
    const unknown = await post('/nothing', '{}');
    expect(unknown.status).toBe(404);
  });

  it('answers a known route asked with another method with 405 and Allow', async () => {
    const response = await fetch(`${agent.url}/api/v0/files/read`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await response.json()).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: expect.any(String) },
    });
  });
});

describe('workspace containment', () => {
  beforeEach(async () => {
    agent = await startAgentFixture();
    await fs.writeFile(path.join(agent.outer, 'secret.txt'), 'outside\n');
    await fs.writeFile(path.join(agent.root, 'inside.txt'), 'inside\n');
    await fs.symlink('/etc', path.join(agent.root, 'etc-link'));
    await fs.symlink(agent.outer, path.join(agent.root, 'outer-link'));
    await fs.symlink(path.join(agent.outer, 'new.txt'), path.join(agent.root, 'dangling'));
  });

  const outside = (call: Promise<unknown>) => expectAgentError(call, 'PATH_OUTSIDE_WORKSPACE', 403);

  it('refuses reads with .., absolute paths and symlinks that leave the root', async () => {
    const { client } = agent;
    await outside(client.readFile({ path: '../secret.txt' }));
    await outside(client.readFile({ path: 'sub/../../secret.txt' }));
    await outside(client.readFile({ path: '/etc/passwd' }));
    await outside(client.readFile({ path: path.join(agent.outer, 'secret.txt') }));
    await outside(client.readFile({ path: 'etc-link/passwd' }));
    await outside(client.readFile({ path: 'outer-link/secret.txt' }));
    await outside(client.listDirectory({ path: 'etc-link' }));
    await outside(client.listDirectory({ path: '..' }));
  });

  it('allows absolute paths and symlinks that stay inside the root', async () => {
    await fs.symlink('inside.txt', path.join(agent.root, 'inner-link'));
    const absolute = await agent.client.readFile({ path: path.join(agent.root, 'inside.txt') });
    expect(absolute).toMatchObject({ path: 'inside.txt', content: 'inside\n' });
    expect((await agent.client.readFile({ path: 'inner-link' })).content).toBe('inside\n');
  });

  it('refuses writes and edits outside the root and creates nothing there', async () => {
    const { client } = agent;
    await outside(client.writeFile({ path: '../pwned.txt', content: 'x' }));
    await outside(client.writeFile({ path: '/tmp/agentgraph-pwned.txt', content: 'x' }));
    await outside(client.writeFile({ path: 'outer-link/pwned.txt', content: 'x' }));
    await outside(client.writeFile({ path: 'outer-link/newdir/pwned.txt', content: 'x' }));
    await outside(client.writeFile({ path: 'etc-link/agentgraph-pwned', content: 'x' }));
    await outside(client.writeFile({ path: 'dangling', content: 'x' }));
    await outside(
      client.editFiles({
        files: [{ path: 'outer-link/secret.txt', edits: [{ search: 'outside', replace: 'x' }] }],
      }),
    );
    expect((await fs.readdir(agent.outer)).sort()).toEqual(['secret.txt', 'workspace']);
    expect(await fs.readFile(path.join(agent.outer, 'secret.txt'), 'utf8')).toBe('outside\n');
    await expect(fs.access('/etc/agentgraph-pwned')).rejects.toThrow();
    await expect(fs.access('/tmp/agentgraph-pwned.txt')).rejects.toThrow();
  });

  it('refuses process workdirs outside the root', async () => {
    const { client } = agent;
    for (const workdir of ['..', '/etc', 'etc-link', 'outer-link']) {
      await outside(client.startProcess({ command: 'touch pwned', workdir }));
    }
    expect((await fs.readdir(agent.outer)).sort()).toEqual(['secret.txt', 'workspace']);
    expect((await client.listProcesses()).processes).toEqual([]);
  });
});

describe('process environment', () => {
  it('is an allow-list: non-interactive settings in, the server environment out', async () => {
    vi.stubEnv('DATABASE_URL', 'postgres://user:hunter2@db/agentgraph');
    vi.stubEnv('SECRET_KEY', 'super-secret-key-value');
    vi.stubEnv('AGENTGRAPH_AGENT_TOKEN', TEST_TOKEN);
    agent = await startAgentFixture({ env: { FROM_AGENT_OPTIONS: 'yes', PAGER: 'less' } });
    const result = await agent.client.startProcess({
      command: 'env',
      env: { FROM_REQUEST: 'also', PAGER: 'cat' },
    });
    if (!('output' in result)) throw new Error('expected output');
    const env = new Map(
      result.output
        .trimEnd()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.fromEntries(env)).toMatchObject({
      PAGER: 'cat',
      GIT_PAGER: 'cat',
      GIT_TERMINAL_PROMPT: '0',
      GIT_EDITOR: 'true',
      TERM: 'dumb',
      NO_COLOR: '1',
      CI: '1',
      LANG: 'C.UTF-8',
      HOME: agent.root,
      FROM_AGENT_OPTIONS: 'yes',
      FROM_REQUEST: 'also',
    });
    expect(env.has('PATH')).toBe(true);
    for (const leaked of ['DATABASE_URL', 'SECRET_KEY', 'AGENTGRAPH_AGENT_TOKEN', 'VITEST']) {
      expect(env.has(leaked), leaked).toBe(false);
    }
    expect(result.output).not.toContain('hunter2');
  });
});
