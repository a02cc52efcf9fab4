import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { resultOf, runFirstTurn, textStep, toolStep } from '../../integration/workspace/support.js';
import type { TestClient } from '../../support/client.js';
import { configureFakeModel, startScriptedLlm } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';

/**
 * Issue #8, rows 1 and 2, end to end: a MEMBER's model runs `execute` in its own workspace
 * through real turns (fake LLM, real server, real agent processes, bubblewrap) and tries to read
 * the server's secrets, another member's files and DATA_DIR, and to reach Postgres and Redis.
 */

const SECRET_KEY = 'planted-server-secret-key-7d1e0b';
/** Planted in this process's environment too: the in-process server runs with it. */
const PROCESS_SECRET = 'planted-process-env-secret-3a9f';

/** A node one-liner that prints "connected" or the connect error's code. */
const connectTo = (port: number) =>
  `node -e "require('net').connect(${port}, '127.0.0.1')` +
  `.on('connect', () => { console.log('connected'); process.exit(0); })` +
  `.on('error', (e) => { console.log(e.code); process.exit(1); })"`;

describe('sandbox: a member attacks from its workspace', () => {
  let server: TestServer;
  let llm: FakeLlm;
  let attacker: TestClient;
  let victim: TestClient;

  beforeAll(async () => {
    vi.stubEnv('AGENTGRAPH_PLANTED_SECRET', PROCESS_SECRET);
    llm = await startScriptedLlm();
    server = await startTestServer({
      env: { CHAT_ACQUIRE_INTERVAL_MS: '100', SECRET_KEY, WORKSPACE_SANDBOX: 'bwrap' },
    });
    await configureFakeModel(server.admin, llm);
    attacker = (await server.createMember()).client;
    victim = (await server.createMember()).client;
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    await llm?.close();
  });

  it("reads no secret, no other member's file and no DATA_DIR file, and reaches no service", async () => {
    const victimText = 'Victim keeps a private note';
    llm.script(
      toolStep(victimText, [
        { id: 'v-create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(victimText, [
        {
          id: 'v-write',
          name: 'write_file',
          args: { path: 'private.txt', content: 'victim private note\n' },
        },
      ]),
      textStep(victimText, 'Saved.'),
    );
    const victimTurn = await runFirstTurn(victim, victimText);
    const victimWorkspace = resultOf(victimTurn.stream, 'v-create').result['workspace'] as {
      id: string;
    };
    victimTurn.stream.close();
    const victimDir = path.join(server.env['WORKSPACES_DIR']!, victimWorkspace.id);
    expect(await fs.readFile(path.join(victimDir, 'private.txt'), 'utf8')).toBe(
      'victim private note\n',
    );
    const dataDir = path.resolve(server.env['DATA_DIR']!);
    const dataFile = path.join(dataDir, 'planted.txt');
    await fs.writeFile(dataFile, `${SECRET_KEY}\n`);

    const text = 'Attacker looks around';
    const execute = (id: string, command: string) => ({
      id,
      name: 'execute',
      args: { command, timeout_seconds: 60 },
    });
    llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        execute('environ', "tr '\\0' '\\n' < /proc/$PPID/environ; cat /proc/*/environ; env"),
        execute('other', `cat ${victimDir}/private.txt; echo "status:$?"`),
        execute(
          'data',
          `cat ${dataFile} 2>/dev/null; echo "status:$?"; echo "ls:$(ls -a ${dataDir} | tr '\\n' ' ')"`,
        ),
        execute('checkout', `ls ${process.cwd()}; echo "status:$?"`),
        execute('escape', `echo x > ${dataDir}/escaped.txt; echo "status:$?"`),
        execute('postgres', connectTo(5432)),
        execute('redis', connectTo(6379)),
      ]),
      textStep(text, 'Nothing found.'),
    );
    const { stream } = await runFirstTurn(attacker, text);
    try {
      expect(resultOf(stream, 'create').result).toMatchObject({ created: true });

      const environ = resultOf(stream, 'environ');
      expect(environ.isError).toBe(false);
      const seen = String(environ.result['output']);
      for (const secret of [
        SECRET_KEY,
        PROCESS_SECRET,
        server.env['BOOTSTRAP_ADMIN_TOKEN']!,
        ...(server.env['DATABASE_URL'] ? [server.env['DATABASE_URL']] : []),
      ]) {
        expect(seen).not.toContain(secret);
      }
      expect(seen).not.toMatch(/DATABASE_URL|REDIS_URL|SECRET_KEY|BOOTSTRAP_ADMIN_TOKEN/);

      const other = String(resultOf(stream, 'other').result['output']);
      expect(other).not.toContain('victim private note');
      expect(other).toMatch(/status:[1-9]/);

      const data = String(resultOf(stream, 'data').result['output']);
      expect(data).not.toContain(SECRET_KEY);
      expect(data).toMatch(/status:[1-9]/);
      // DATA_DIR exists inside only as the path to the workspace: nothing else of it is there.
      expect(data).toContain('ls:. .. workspaces \n');

      expect(String(resultOf(stream, 'checkout').result['output'])).toMatch(/status:[1-9]/);
      // The test's DATA_DIR lies under /tmp, the sandbox's own tmpfs: the write may succeed
      // there, but must not reach the host's DATA_DIR.
      expect(String(resultOf(stream, 'escape').result['output'])).toMatch(/status:\d/);
      await expect(fs.access(path.join(dataDir, 'escaped.txt'))).rejects.toThrow();

      for (const id of ['postgres', 'redis']) {
        const result = resultOf(stream, id).result;
        expect(result['output']).not.toContain('connected');
        expect(result['exit_code']).toBe(1);
      }
    } finally {
      stream.close();
    }
  });
});

describe('sandbox: no sandbox available in auto mode', () => {
  let server: TestServer;
  let llm: FakeLlm;
  let member: TestClient;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    // The start-time probe finds no bwrap on this PATH.
    vi.stubEnv('PATH', path.join(os.tmpdir(), 'agentgraph-no-bwrap-here'));
    try {
      server = await startTestServer({
        env: { CHAT_ACQUIRE_INTERVAL_MS: '100', WORKSPACE_SANDBOX: 'auto' },
      });
    } finally {
      vi.unstubAllEnvs();
    }
    await configureFakeModel(server.admin, llm);
    member = (await server.createMember()).client;
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  it('refuses execute, the process tools and the startup script to a MEMBER, not to an ADMIN', async () => {
    const text = 'Member without a sandbox';
    llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        { id: 'exec', name: 'execute', args: { command: 'echo member-ran > ran.txt' } },
        {
          id: 'output',
          name: 'process_output',
          args: { process_id: '00000000-0000-0000-0000-000000000000' },
        },
        {
          id: 'signal',
          name: 'process_signal',
          args: { process_id: '00000000-0000-0000-0000-000000000000', signal: 'kill' },
        },
        { id: 'write', name: 'write_file', args: { path: 'note.txt', content: 'files work\n' } },
      ]),
      textStep(text, 'Refused.'),
    );
    const { stream } = await runFirstTurn(member, text);
    try {
      const created = resultOf(stream, 'create').result;
      expect(created).toMatchObject({ startup_script: { status: 'failed' } });
      expect(JSON.stringify(created)).toContain('sandbox');
      for (const id of ['exec', 'output', 'signal']) {
        expect(resultOf(stream, id)).toMatchObject({
          isError: true,
          result: { code: 'SANDBOX_UNAVAILABLE', error: expect.stringContaining('bubblewrap') },
        });
      }
      expect(resultOf(stream, 'write').isError).toBe(false);
      const workspace = created['workspace'] as { id: string };
      const dir = path.join(server.env['WORKSPACES_DIR']!, workspace.id);
      await expect(fs.access(path.join(dir, 'ran.txt'))).rejects.toThrow();
      expect(await fs.readFile(path.join(dir, 'note.txt'), 'utf8')).toBe('files work\n');
    } finally {
      stream.close();
    }

    const adminText = 'Admin without a sandbox';
    llm.script(
      toolStep(adminText, [
        { id: 'a-create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(adminText, [{ id: 'a-exec', name: 'execute', args: { command: 'echo admin-ran' } }]),
      textStep(adminText, 'Ran.'),
    );
    const admin = await runFirstTurn(server.admin, adminText);
    try {
      expect(resultOf(admin.stream, 'a-exec')).toMatchObject({
        isError: false,
        result: { exit_code: 0, output: 'admin-ran\n' },
      });
    } finally {
      admin.stream.close();
    }
  });
});
