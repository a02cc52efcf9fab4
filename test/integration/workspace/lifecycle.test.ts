import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { startWorkspaceAgent, type WorkspaceAgent } from '../../../src/workspace/agent/index.js';
import { WorkspaceAgentError } from '../../../src/workspace/agent-client.js';
import { registerRemoteWorkspace } from '../../../src/workspace/service.js';
import { createBackendEnv, type BackendEnv } from '../../support/backend.js';
import { TestClient } from '../../support/client.js';
import { configureFakeModel, startScriptedLlm } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import {
  resultOf,
  runFirstTurn,
  runNextTurn,
  systemTexts,
  textStep,
  toolStep,
  turnRequests,
} from './support.js';

describe('workspaces: stop, start, restart and remote agents (B18)', () => {
  let llm: FakeLlm;
  let backendEnv: BackendEnv;
  let server: TestServer;
  let member: { id: string; client: TestClient };

  beforeAll(async () => {
    llm = await startScriptedLlm();
    backendEnv = await createBackendEnv();
    server = await startTestServer({ backendEnv, env: { CHAT_ACQUIRE_INTERVAL_MS: '100' } });
    await configureFakeModel(server.admin, llm);
    member = await server.createMember();
  });
  afterAll(async () => {
    await server?.close();
    await backendEnv?.cleanup();
    await llm?.close();
  });

  it('refuses tools on a stopped workspace until start_workspace starts it again', async () => {
    const text = 'Make a workspace I can stop';
    llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      textStep(text, 'Created.'),
      toolStep(text, [{ id: 'stopped-read', name: 'read_file', args: { path: 'package.json' } }]),
      toolStep(text, [
        { id: 'stopped-create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [{ id: 'start', name: 'start_workspace', args: {} }]),
      toolStep(text, [
        { id: 'read', name: 'read_file', args: { path: 'package.json' } },
        { id: 'start-again', name: 'start_workspace', args: {} },
      ]),
      textStep(text, 'Started.'),
    );
    const first = await runFirstTurn(member.client, text);
    const workspaceId = (resultOf(first.stream, 'create').result['workspace'] as { id: string }).id;
    await first.stream.close();

    await server.app.workspaces.stopWorkspace(workspaceId);
    const stream = await runNextTurn(member.client, first.chatId, 'Go on');
    try {
      expect(resultOf(stream, 'stopped-read')).toMatchObject({
        isError: true,
        result: { code: 'STOPPED', error: expect.stringContaining('start_workspace') },
      });
      expect(resultOf(stream, 'stopped-create')).toMatchObject({
        isError: false,
        result: { created: false, status: 'stopped' },
      });
      expect(resultOf(stream, 'start')).toMatchObject({
        isError: false,
        result: {
          started: true,
          workspace: { id: workspaceId, status: 'RUNNING' },
          startup_script: { status: 'succeeded' },
        },
      });
      expect(resultOf(stream, 'read')).toMatchObject({
        isError: false,
        result: { content: expect.stringContaining('"name": "workspace"') },
      });
      expect(resultOf(stream, 'start-again')).toMatchObject({
        isError: false,
        result: { started: false, status: 'already_running' },
      });
    } finally {
      await stream.close();
    }
  });

  it('starts the agent again on demand after a server restart', async () => {
    const text = 'Make a workspace that survives a restart';
    llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        { id: 'write', name: 'write_file', args: { path: 'kept.txt', content: 'still here' } },
      ]),
      textStep(text, 'Written.'),
      toolStep(text, [
        { id: 'read', name: 'read_file', args: { path: 'kept.txt' } },
        { id: 'run', name: 'execute', args: { command: 'cat kept.txt' } },
      ]),
      textStep(text, 'Read.'),
    );
    const first = await runFirstTurn(member.client, text);
    const workspaceId = (resultOf(first.stream, 'create').result['workspace'] as { id: string }).id;
    await first.stream.close();
    const before = await server.app.deps.prisma.workspace.findUniqueOrThrow({
      where: { id: workspaceId },
    });

    // A new process on the same database: the old process's embedded agents are gone.
    await server.close();
    server = await startTestServer({ backendEnv, env: { CHAT_ACQUIRE_INTERVAL_MS: '100' } });
    const client = new TestClient(server.url, member.client.token);
    member = { id: member.id, client };

    const stream = await runNextTurn(client, first.chatId, 'Read it back');
    try {
      expect(resultOf(stream, 'read')).toMatchObject({
        isError: false,
        result: { content: 'still here' },
      });
      expect(resultOf(stream, 'run')).toMatchObject({
        isError: false,
        result: { exit_code: 0, output: 'still here' },
      });
      const after = await server.app.deps.prisma.workspace.findUniqueOrThrow({
        where: { id: workspaceId },
      });
      expect(after.status).toBe('RUNNING');
      expect(after.agentUrl).not.toBe(before.agentUrl);
    } finally {
      await stream.close();
    }
  });

  describe('a remote agent', () => {
    const token = 'remote-agent-token-0123456789';
    let root: string;
    let agent: WorkspaceAgent;

    beforeAll(async () => {
      // Stands in for `agentgraph-agent --root DIR` on another host: same HTTP API.
      root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-remote-')));
      await fs.writeFile(path.join(root, 'AGENTS.md'), 'Remote rule: never touch prod.\n');
      await fs.writeFile(path.join(root, 'data.txt'), 'remote data\n');
      agent = await startWorkspaceAgent({ root, token });
    });
    afterAll(async () => {
      await agent?.close();
      if (root) await fs.rm(root, { recursive: true, force: true });
    });

    it('is registered with its URL and token and used like a local one', async () => {
      await expect(
        registerRemoteWorkspace(server.app.deps, {
          ownerId: member.id,
          name: 'wrong-token',
          agentUrl: agent.url,
          token: 'not-the-token',
        }),
      ).rejects.toBeInstanceOf(WorkspaceAgentError);

      const workspace = await registerRemoteWorkspace(server.app.deps, {
        ownerId: member.id,
        name: 'remote-box',
        agentUrl: agent.url,
        token,
      });
      expect(workspace).toMatchObject({ status: 'RUNNING', directory: null });
      expect(workspace.agentTokenEncrypted).not.toContain(token);

      const text = 'Work on the remote box';
      llm.script(
        toolStep(text, [
          { id: 'read', name: 'read_file', args: { path: 'data.txt' } },
          { id: 'pwd', name: 'execute', args: { command: 'pwd' } },
        ]),
        textStep(text, 'Done remotely.'),
      );
      const { stream } = await runFirstTurn(member.client, text, { workspaceId: workspace.id });
      try {
        expect(resultOf(stream, 'read')).toMatchObject({
          isError: false,
          result: { content: 'remote data\n' },
        });
        expect(resultOf(stream, 'pwd')).toMatchObject({
          isError: false,
          result: { exit_code: 0, output: `${root}\n` },
        });
        const [request] = turnRequests(llm, text);
        expect(
          systemTexts(request!).some((t) => t.includes('Remote rule: never touch prod.')),
        ).toBe(true);
      } finally {
        await stream.close();
      }

      // The server never starts a remote workspace's agent: when it is down, tools say so.
      await agent.close();
      const downText = 'Work on the remote box while it is down';
      llm.script(
        toolStep(downText, [{ id: 'read', name: 'read_file', args: { path: 'data.txt' } }]),
        textStep(downText, 'It is down.'),
      );
      const down = await runFirstTurn(member.client, downText, { workspaceId: workspace.id });
      try {
        expect(resultOf(down.stream, 'read')).toMatchObject({
          isError: true,
          result: { code: 'AGENT_UNREACHABLE' },
        });
      } finally {
        await down.stream.close();
      }
    });
  });
});
