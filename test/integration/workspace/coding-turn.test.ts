import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import {
  offeredTools,
  resultOf,
  runFirstTurn,
  systemTexts,
  textStep,
  toolResults,
  toolStep,
  turnRequests,
} from './support.js';

const AGENTS_MD_LINE = 'This is an ES module project';
const WRITE_TOOLS = [
  'write_file',
  'edit_files',
  'execute',
  'process_signal',
  'create_workspace',
  'start_workspace',
];
/** Offered in PLAN mode too: shell exploration, and writers limited to the plan file. */
const PLAN_WRITE_TOOLS = ['write_file', 'edit_files', 'execute'];
const READ_TOOLS = ['read_file', 'process_output', 'list_templates', 'read_template'];

describe('workspaces: a coding turn through the fake LLM (B17, B18, B20)', () => {
  const ctx = useDaemonServer();
  let member: { id: string; client: TestClient };
  let workspaceId: string;
  let workspaceDir: string;

  beforeAll(async () => {
    member = await ctx.server.createMember();
  });

  it('creates a workspace from a template, writes, runs ls and cat, edits, and answers', async () => {
    const text = 'Set up a node project and write a note';
    ctx.llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        {
          id: 'write',
          name: 'write_file',
          args: { path: 'notes/hello.txt', content: 'hello from the agent\n' },
        },
      ]),
      toolStep(text, [
        { id: 'ls', name: 'execute', args: { command: 'ls' } },
        { id: 'cat', name: 'execute', args: { command: 'cat notes/hello.txt' } },
      ]),
      toolStep(text, [
        {
          id: 'edit',
          name: 'edit_files',
          args: {
            files: [{ path: 'notes/hello.txt', edits: [{ search: 'hello', replace: 'goodbye' }] }],
          },
        },
      ]),
      textStep(text, 'Done: the note is written and edited.'),
    );

    const { chatId, stream } = await runFirstTurn(member.client, text);
    try {
      const created = resultOf(stream, 'create');
      expect(created.isError).toBe(false);
      expect(created.result).toMatchObject({
        created: true,
        workspace: { template: 'node-basic', status: 'RUNNING' },
        startup_script: { status: 'succeeded', script: 'startup.sh', exit_code: 0 },
      });
      expect(created.result['instructions']).toContain(AGENTS_MD_LINE);
      const workspace = created.result['workspace'] as { id: string; name: string };
      expect(workspace.name).toMatch(/^node-basic-[0-9a-f]{4}$/);
      workspaceId = workspace.id;
      workspaceDir = path.join(ctx.server.env['WORKSPACES_DIR']!, workspaceId);

      expect(resultOf(stream, 'write')).toMatchObject({
        isError: false,
        result: { ok: true, path: 'notes/hello.txt', bytes: 21 },
      });

      const ls = resultOf(stream, 'ls');
      expect(ls.isError).toBe(false);
      expect(ls.result).toMatchObject({ exit_code: 0, truncated: false });
      expect(typeof ls.result['wall_duration_ms']).toBe('number');
      const listed = String(ls.result['output']).split('\n');
      expect(listed).toEqual(expect.arrayContaining(['index.js', 'package.json', 'notes']));
      // The metadata file describes the template; it is not part of the workspace.
      expect(listed).not.toContain('template.json');

      expect(resultOf(stream, 'cat')).toMatchObject({
        isError: false,
        result: {
          exit_code: 0,
          output: 'hello from the agent\n',
          truncated: false,
          note: expect.stringContaining('read_file'),
        },
      });
      expect(resultOf(stream, 'edit')).toMatchObject({
        isError: false,
        result: { ok: true, files: [{ path: 'notes/hello.txt', replacements: 1 }] },
      });

      const final = stream.events
        .map((e) => e.chatEvents.message)
        .filter((m) => m?.role === 'ASSISTANT')
        .at(-1);
      expect(final?.parts).toEqual([
        { type: 'TEXT', text: 'Done: the note is written and edited.' },
      ]);

      // On disk: the template's files, the edited note, and what the startup script made.
      expect(await fs.readFile(path.join(workspaceDir, 'notes/hello.txt'), 'utf8')).toBe(
        'goodbye from the agent\n',
      );
      expect(existsSync(path.join(workspaceDir, 'package.json'))).toBe(true);
      expect(existsSync(path.join(workspaceDir, 'template.json'))).toBe(false);
      // The startup script makes a git repository where git is installed, and says which.
      const startupOutput = String((created.result['startup_script'] as { output: string }).output);
      expect(startupOutput).toMatch(/git repository initialised|git is not installed/);
      expect(existsSync(path.join(workspaceDir, '.git'))).toBe(
        startupOutput.includes('git repository initialised'),
      );

      // The chat is bound to the workspace (B18), visible through the API.
      const chat = await member.client.query<{
        chat: { workspace: { id: string; template: string; status: string } };
      }>('query ($id: ID!) { chat(id: $id) { workspace { id template status } } }', {
        id: chatId,
      });
      expect(chat.chat.workspace).toEqual({
        id: workspaceId,
        template: 'node-basic',
        status: 'RUNNING',
      });
      expect(ctx.llm.pending()).toBe(0);
    } finally {
      await stream.close();
    }
  });

  it('returns tool errors to the model and the turn goes on; AGENTS.md reaches the prompt', async () => {
    const text = 'Read some files that are not there';
    ctx.llm.script(
      toolStep(text, [
        { id: 'missing', name: 'read_file', args: { path: 'missing.txt' } },
        { id: 'escape', name: 'read_file', args: { path: '../../etc/passwd' } },
        { id: 'absolute', name: 'write_file', args: { path: '/tmp/escape.txt', content: 'x' } },
        { id: 'bad-args', name: 'execute', args: { cmd: 'ls' } },
        {
          id: 'bad-edit',
          name: 'edit_files',
          args: {
            files: [
              { path: 'index.js', edits: [{ search: 'Hello, ', replace: 'Goodbye, ' }] },
              { path: 'README.md', edits: [{ search: 'no such text', replace: 'x' }] },
            ],
          },
        },
      ]),
      textStep(text, 'Those files are not available.'),
    );
    const indexBefore = await fs.readFile(path.join(workspaceDir, 'index.js'), 'utf8');

    const { stream } = await runFirstTurn(member.client, text, { workspaceId });
    try {
      expect(resultOf(stream, 'missing')).toMatchObject({
        isError: true,
        result: { code: 'NOT_FOUND', error: expect.stringContaining('missing.txt') },
      });
      expect(resultOf(stream, 'escape')).toMatchObject({
        isError: true,
        result: { code: 'PATH_OUTSIDE_WORKSPACE', error: expect.stringContaining('outside') },
      });
      expect(resultOf(stream, 'absolute')).toMatchObject({
        isError: true,
        result: { code: 'PATH_OUTSIDE_WORKSPACE' },
      });
      expect(existsSync('/tmp/escape.txt')).toBe(false);
      const badArgs = resultOf(stream, 'bad-args');
      expect(badArgs.isError).toBe(true);
      expect(badArgs.result['error']).toMatch(/command is required/);
      expect(badArgs.result['error']).toMatch(/cmd/);
      // All or nothing: the first file's valid edit was not applied either.
      expect(resultOf(stream, 'bad-edit')).toMatchObject({
        isError: true,
        result: { code: 'EDIT_NOT_FOUND', error: expect.stringContaining('README.md') },
      });
      expect(await fs.readFile(path.join(workspaceDir, 'index.js'), 'utf8')).toBe(indexBefore);

      // The turn went on: the model saw the errors and answered (runFirstTurn saw WAITING).
      const requests = turnRequests(ctx.llm, text);
      expect(requests).toHaveLength(2);
      const toolMessages = requests[1]!.messages.filter((m) => m.role === 'tool');
      expect(toolMessages).toHaveLength(5);

      // The bound workspace's AGENTS.md is a system message of every request of the turn.
      for (const request of requests) {
        const instructions = systemTexts(request).filter((t) => t.includes(AGENTS_MD_LINE));
        expect(instructions).toHaveLength(1);
        expect(instructions[0]).toContain('AGENTS.md');
      }
    } finally {
      await stream.close();
    }
  });

  it('tells the model to create a workspace when the chat has none', async () => {
    const text = 'Run something without a workspace';
    ctx.llm.script(
      toolStep(text, [
        { id: 'read', name: 'read_file', args: { path: 'index.js' } },
        { id: 'run', name: 'execute', args: { command: 'ls' } },
      ]),
      textStep(text, 'I need a workspace first.'),
    );
    const { stream } = await runFirstTurn(member.client, text);
    try {
      for (const id of ['read', 'run']) {
        expect(resultOf(stream, id)).toMatchObject({
          isError: true,
          result: { code: 'NO_WORKSPACE', error: expect.stringContaining('create_workspace') },
        });
      }
      // No workspace, no instructions.
      const [request] = turnRequests(ctx.llm, text);
      expect(systemTexts(request!).some((t) => t.includes('AGENTS.md'))).toBe(false);
    } finally {
      await stream.close();
    }
  });

  it('offers every workspace tool in DEFAULT mode and no workspace-changing ones in PLAN mode', async () => {
    const defaultText = 'Which tools do I have?';
    const planText = 'Plan a change, do not make it';
    ctx.llm.script(
      textStep(defaultText, 'Many.'),
      toolStep(planText, [
        { id: 'plan-write', name: 'write_file', args: { path: 'plan.txt', content: 'x' } },
        { id: 'plan-read', name: 'read_file', args: { path: 'README.md' } },
      ]),
      textStep(planText, 'Here is the plan.'),
    );
    const normal = await runFirstTurn(member.client, defaultText, { workspaceId });
    await normal.stream.close();
    const [defaultRequest] = turnRequests(ctx.llm, defaultText);
    expect(offeredTools(defaultRequest!)).toEqual(
      expect.arrayContaining([...READ_TOOLS, ...WRITE_TOOLS]),
    );

    const plan = await runFirstTurn(member.client, planText, { workspaceId, mode: 'PLAN' });
    try {
      const [planRequest] = turnRequests(ctx.llm, planText);
      const offered = offeredTools(planRequest!);
      // B20 as the seeds run it: exploration (execute) and the plan file writers stay offered.
      expect(offered).toEqual(expect.arrayContaining([...READ_TOOLS, ...PLAN_WRITE_TOOLS]));
      for (const name of WRITE_TOOLS.filter((tool) => !PLAN_WRITE_TOOLS.includes(tool))) {
        expect(offered).not.toContain(name);
      }
      // A call the model was not offered is refused as an error result, and nothing is written.
      expect(resultOf(plan.stream, 'plan-write')).toMatchObject({
        isError: true,
        result: { error: expect.stringContaining('PLAN mode') },
      });
      expect(existsSync(path.join(workspaceDir, 'plan.txt'))).toBe(false);
      expect(resultOf(plan.stream, 'plan-read')).toMatchObject({
        isError: false,
        result: { path: 'README.md', content: expect.stringContaining('Node.js workspace') },
      });
    } finally {
      await plan.stream.close();
    }
  });

  it('creates one workspace when the model calls create_workspace twice in one step', async () => {
    const text = 'Create a workspace, twice at once';
    ctx.llm.script(
      toolStep(text, [
        { id: 'first', name: 'create_workspace', args: { template: 'python-basic' } },
        { id: 'second', name: 'create_workspace', args: { template: 'python-basic' } },
      ]),
      textStep(text, 'Created.'),
    );
    const before = await ctx.server.app.deps.prisma.workspace.count({
      where: { ownerId: member.id },
    });
    const { chatId, stream } = await runFirstTurn(member.client, text);
    try {
      const results = [resultOf(stream, 'first'), resultOf(stream, 'second')];
      expect(results.map((r) => r.isError)).toEqual([false, false]);
      expect(results.map((r) => r.result['created']).sort()).toEqual([false, true]);
      expect(results.find((r) => r.result['created'] === false)?.result).toMatchObject({
        status: 'already_exists',
      });
      const ids = results.map((r) => (r.result['workspace'] as { id: string }).id);
      expect(ids[0]).toBe(ids[1]);
      expect(
        await ctx.server.app.deps.prisma.workspace.count({ where: { ownerId: member.id } }),
      ).toBe(before + 1);
      const chat = await ctx.server.app.deps.prisma.chat.findUniqueOrThrow({
        where: { id: chatId },
      });
      expect(chat.workspaceId).toBe(ids[0]);
      expect(toolResults(stream)).toHaveLength(2);
    } finally {
      await stream.close();
    }
  });
});
