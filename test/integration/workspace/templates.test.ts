import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import type { TestClient } from '../../support/client.js';
import { configureFakeModel, startScriptedLlm } from '../../support/llm.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { resultOf, runFirstTurn, textStep, toolStep } from './support.js';

describe('workspaces: templates (B17, B18)', () => {
  let llm: FakeLlm;
  beforeAll(async () => {
    llm = await startScriptedLlm();
  });
  afterAll(async () => {
    await llm?.close();
  });

  describe('the shipped templates', () => {
    let server: TestServer;
    let member: { id: string; client: TestClient };

    beforeAll(async () => {
      server = await startTestServer({ env: { CHAT_ACQUIRE_INTERVAL_MS: '100' } });
      await configureFakeModel(server.admin, llm);
      member = await server.createMember();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('lists and describes templates, and refuses names that are not templates', async () => {
      const text = 'Which templates are there?';
      llm.script(
        toolStep(text, [
          { id: 'all', name: 'list_templates', args: {} },
          { id: 'python', name: 'list_templates', args: { query: 'PYTHON' } },
          { id: 'read', name: 'read_template', args: { template: 'node-basic' } },
          { id: 'escape', name: 'read_template', args: { template: '../templates/node-basic' } },
          { id: 'missing', name: 'read_template', args: { template: 'cobol-basic' } },
          { id: 'no-args', name: 'read_template', args: {} },
        ]),
        textStep(text, 'Two templates.'),
      );
      const { stream } = await runFirstTurn(member.client, text);
      try {
        expect(resultOf(stream, 'all')).toMatchObject({
          isError: false,
          result: {
            count: 2,
            templates: [
              { name: 'node-basic', display_name: 'Node.js (basic)' },
              { name: 'python-basic', display_name: 'Python (basic)' },
            ],
          },
        });
        const python = resultOf(stream, 'python').result;
        expect(python['count']).toBe(1);
        expect(python['templates']).toEqual([
          {
            name: 'python-basic',
            display_name: 'Python (basic)',
            description: expect.stringContaining('Python 3'),
          },
        ]);

        const read = resultOf(stream, 'read');
        expect(read).toMatchObject({
          isError: false,
          result: {
            template: { name: 'node-basic', startup_script: 'startup.sh' },
            files_truncated: false,
            readme: expect.stringContaining('npm test'),
          },
        });
        expect(read.result['files']).toEqual(
          expect.arrayContaining(['AGENTS.md', 'index.js', 'package.json', 'test/index.test.js']),
        );
        expect(read.result['files']).not.toContain('template.json');

        expect(resultOf(stream, 'escape')).toMatchObject({
          isError: true,
          result: { code: 'INVALID_NAME' },
        });
        expect(resultOf(stream, 'missing')).toMatchObject({
          isError: true,
          result: { code: 'NOT_FOUND', error: expect.stringContaining('list_templates') },
        });
        expect(resultOf(stream, 'no-args')).toMatchObject({
          isError: true,
          result: { error: expect.stringContaining('template is required') },
        });
      } finally {
        await stream.close();
      }
    });
  });

  describe('startup scripts', () => {
    let server: TestServer;
    let member: { id: string; client: TestClient };
    let templatesDir: string;

    const template = async (name: string, files: Record<string, string>) => {
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(templatesDir, name, file)), { recursive: true });
        await fs.writeFile(path.join(templatesDir, name, file), content);
      }
    };

    beforeAll(async () => {
      templatesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-templates-'));
      const withScript = (startup: string, metadata: Record<string, unknown> = {}) => ({
        'template.json': JSON.stringify({ startupScript: 'startup.sh', ...metadata }),
        'startup.sh': startup,
        'README.md': 'fixture\n',
      });
      // Writes its file only after a while: a tool call right after create_workspace sees it
      // only if create_workspace waited for the script.
      await template('slow', withScript('sleep 0.5\necho ready > ready.txt\necho started\n'));
      await template('broken', withScript('echo boom >&2\nexit 3\n'));
      await template('hangs', withScript('sleep 30\n', { startupTimeoutSeconds: 1 }));
      await template('bad-metadata', { 'template.json': '{"startupScript": "../../etc/x"}' });
      server = await startTestServer({
        env: { CHAT_ACQUIRE_INTERVAL_MS: '100', TEMPLATES_DIR: templatesDir },
      });
      await configureFakeModel(server.admin, llm);
      member = await server.createMember();
    });
    afterAll(async () => {
      await server?.close();
      if (templatesDir) await fs.rm(templatesDir, { recursive: true, force: true });
    });

    it('waits for the startup script before create_workspace returns', async () => {
      const text = 'Create the slow workspace and read what it made';
      llm.script(
        toolStep(text, [{ id: 'create', name: 'create_workspace', args: { template: 'slow' } }]),
        toolStep(text, [{ id: 'read', name: 'read_file', args: { path: 'ready.txt' } }]),
        textStep(text, 'Ready.'),
      );
      const { stream } = await runFirstTurn(member.client, text);
      try {
        expect(resultOf(stream, 'create')).toMatchObject({
          isError: false,
          result: {
            created: true,
            workspace: { status: 'RUNNING' },
            startup_script: { status: 'succeeded', exit_code: 0, output: 'started\n' },
          },
        });
        expect(resultOf(stream, 'read')).toMatchObject({
          isError: false,
          result: { content: 'ready\n' },
        });
      } finally {
        await stream.close();
      }
    });

    it('reports a failing startup script, marks the workspace FAILED and keeps it usable', async () => {
      const text = 'Create the broken workspace';
      llm.script(
        toolStep(text, [{ id: 'create', name: 'create_workspace', args: { template: 'broken' } }]),
        toolStep(text, [{ id: 'read', name: 'read_file', args: { path: 'README.md' } }]),
        toolStep(text, [{ id: 'again', name: 'create_workspace', args: { template: 'slow' } }]),
        textStep(text, 'It failed.'),
      );
      const { chatId, stream } = await runFirstTurn(member.client, text);
      try {
        const created = resultOf(stream, 'create');
        expect(created).toMatchObject({
          isError: false,
          result: {
            created: true,
            workspace: { status: 'FAILED' },
            startup_script: { status: 'failed', exit_code: 3, output: 'boom\n' },
            message: expect.stringContaining('failed'),
          },
        });
        expect(resultOf(stream, 'read')).toMatchObject({
          isError: false,
          result: { content: 'fixture\n' },
        });
        // A failed workspace is replaced by create_workspace, and the chat moves to the new one.
        const again = resultOf(stream, 'again');
        expect(again.result).toMatchObject({ created: true, workspace: { status: 'RUNNING' } });
        const firstId = (created.result['workspace'] as { id: string }).id;
        const secondId = (again.result['workspace'] as { id: string }).id;
        expect(secondId).not.toBe(firstId);
        const chat = await server.app.deps.prisma.chat.findUniqueOrThrow({
          where: { id: chatId },
        });
        expect(chat.workspaceId).toBe(secondId);
        const failed = await server.app.deps.prisma.workspace.findUniqueOrThrow({
          where: { id: firstId },
        });
        expect(failed.status).toBe('FAILED');
      } finally {
        await stream.close();
      }
    });

    it('kills a startup script that overruns its timeout and reports timed_out', async () => {
      const text = 'Create the hanging workspace';
      llm.script(
        toolStep(text, [{ id: 'create', name: 'create_workspace', args: { template: 'hangs' } }]),
        textStep(text, 'It hung.'),
      );
      const { stream } = await runFirstTurn(member.client, text);
      try {
        expect(resultOf(stream, 'create')).toMatchObject({
          isError: false,
          result: {
            created: true,
            workspace: { status: 'FAILED' },
            startup_script: { status: 'timed_out', exit_code: null },
          },
        });
      } finally {
        await stream.close();
      }
    });

    it('leaves a template with a broken template.json out of the list and refuses it', async () => {
      const text = 'List the fixture templates';
      llm.script(
        toolStep(text, [
          { id: 'list', name: 'list_templates', args: {} },
          { id: 'create', name: 'create_workspace', args: { template: 'bad-metadata' } },
        ]),
        textStep(text, 'Listed.'),
      );
      const { stream } = await runFirstTurn(member.client, text);
      try {
        const list = resultOf(stream, 'list').result;
        expect((list['templates'] as Array<{ name: string }>).map((t) => t.name)).toEqual([
          'broken',
          'hangs',
          'slow',
        ]);
        expect(resultOf(stream, 'create')).toMatchObject({
          isError: true,
          result: { code: 'INVALID_TEMPLATE', error: expect.stringContaining('startupScript') },
        });
      } finally {
        await stream.close();
      }
    });
  });
});
