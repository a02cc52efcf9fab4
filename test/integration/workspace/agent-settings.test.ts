import { beforeAll, describe, expect, it } from 'vitest';

import { firstUserText } from '../../../src/testing/fake-llm/index.js';
import type { EventStream, TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import { createGate, isTurn } from '../../support/llm.js';
import {
  offeredTools,
  resultOf,
  runFirstTurn,
  runNextTurn,
  systemTexts,
  textStep,
  toolStep,
  turnRequests,
  type ChatEvent,
} from './support.js';

/**
 * Issue #13 in real turns: the template allowlist at every template tool, AGENTS.md from the step
 * after create_workspace, the workspace TTL and stop_workspace, personal instructions and the
 * admin's addition in the prompt, and explore subagents with close_agent.
 */
const UPDATE = `mutation ($input: UpdateDeploymentSettingsInput!) {
  updateDeploymentSettings(input: $input) { templateAllowlist } }`;
const VIEWER_UPDATE = `mutation ($input: UpdateViewerSettingsInput!) {
  updateViewerSettings(input: $input) { instructions } }`;

describe('agent settings in turns (issue #13)', () => {
  const ctx = useDaemonServer();
  let member: { id: string; client: TestClient };
  const prisma = () => ctx.server.app.deps.prisma;

  beforeAll(async () => {
    member = await ctx.server.createMember();
  });

  it('enforces the template allowlist at every tool and adds AGENTS.md from the next step', async () => {
    await ctx.server.admin.query(UPDATE, { input: { templateAllowlist: ['node-basic'] } });
    const text = 'Make me an allowed workspace';
    ctx.llm.script(
      toolStep(text, [
        { id: 'list', name: 'list_templates', args: {} },
        { id: 'read-denied', name: 'read_template', args: { template: 'python-basic' } },
        { id: 'create-denied', name: 'create_workspace', args: { template: 'python-basic' } },
      ]),
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      textStep(text, 'Ready.'),
    );
    const { stream } = await runFirstTurn(member.client, text);
    try {
      const listed = resultOf(stream, 'list').result['templates'] as { name: string }[];
      expect(listed.map((template) => template.name)).toEqual(['node-basic']);
      for (const id of ['read-denied', 'create-denied']) {
        expect(resultOf(stream, id)).toMatchObject({
          isError: true,
          result: { code: 'NOT_ALLOWED', error: expect.stringContaining('list_templates') },
        });
      }
      expect(resultOf(stream, 'create')).toMatchObject({
        isError: false,
        result: { created: true },
      });
      const [first, second, third] = turnRequests(ctx.llm, text);
      const agentsMd = (body: typeof first) =>
        systemTexts(body!).some((system) => system.startsWith('Workspace instructions'));
      expect(agentsMd(first)).toBe(false);
      expect(agentsMd(second)).toBe(false);
      expect(agentsMd(third)).toBe(true); // the step right after create_workspace
    } finally {
      await stream.close();
      await ctx.server.admin.query(UPDATE, { input: { templateAllowlist: null } });
    }
  });

  it('stops an idle workspace after the TTL; start_workspace brings it back; stop_workspace stops it', async () => {
    const text = 'Make a workspace that idles';
    ctx.llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      textStep(text, 'Created.'),
      toolStep(text, [{ id: 'stopped-read', name: 'read_file', args: { path: 'package.json' } }]),
      toolStep(text, [{ id: 'start', name: 'start_workspace', args: {} }]),
      toolStep(text, [{ id: 'read', name: 'read_file', args: { path: 'package.json' } }]),
      toolStep(text, [{ id: 'stop', name: 'stop_workspace', args: {} }]),
      textStep(text, 'Stopped.'),
    );
    const first = await runFirstTurn(member.client, text);
    const workspaceId = (resultOf(first.stream, 'create').result['workspace'] as { id: string }).id;
    await first.stream.close();

    await ctx.server.admin.query(UPDATE, { input: { workspaceTtlMinutes: 5 } });
    try {
      // Active a moment ago: kept.
      expect((await ctx.server.app.maintenance.runOnce()).stoppedWorkspaces).toBe(0);
      expect(ctx.server.app.workspaces.embeddedWorkspaceIds()).toContain(workspaceId);
      // Idle for six minutes: stopped, its agent ended.
      await prisma().workspace.update({
        where: { id: workspaceId },
        data: { lastActivityAt: new Date(Date.now() - 6 * 60_000) },
      });
      expect((await ctx.server.app.maintenance.runOnce()).stoppedWorkspaces).toBe(1);
      expect(
        (await prisma().workspace.findUniqueOrThrow({ where: { id: workspaceId } })).status,
      ).toBe('STOPPED');
      expect(ctx.server.app.workspaces.embeddedWorkspaceIds()).not.toContain(workspaceId);
    } finally {
      await ctx.server.admin.query(UPDATE, { input: { workspaceTtlMinutes: null } });
    }

    const stream = await runNextTurn(member.client, first.chatId, 'Go on');
    try {
      expect(resultOf(stream, 'stopped-read')).toMatchObject({
        isError: true,
        result: { code: 'STOPPED' },
      });
      // The agent is back (its startup script's outcome is the template's business).
      expect(resultOf(stream, 'start')).toMatchObject({
        isError: false,
        result: { started: true },
      });
      expect(resultOf(stream, 'read')).toMatchObject({ isError: false });
      expect(resultOf(stream, 'stop')).toMatchObject({
        isError: false,
        result: { stopped: true, workspace: { status: 'STOPPED' } },
      });
      expect(
        (await prisma().workspace.findUniqueOrThrow({ where: { id: workspaceId } })).status,
      ).toBe('STOPPED');
    } finally {
      await stream.close();
    }
  });

  it('gives PLAN chats explore agents: read-only tools, the explore model, closed by close_agent', async () => {
    const explore = await ctx.server.admin.query<{ createModelConfig: { id: string } }>(
      `mutation ($input: CreateModelConfigInput!) { createModelConfig(input: $input) { id } }`,
      {
        input: { providerId: ctx.model.providerId, model: 'explore-model', contextLimit: 100_000 },
      },
    );
    await ctx.server.admin.query(UPDATE, {
      input: {
        exploreModelConfigId: explore.createModelConfig.id,
        systemPromptAddition: 'Deployment rule: cite file paths.',
      },
    });
    await member.client.query(VIEWER_UPDATE, { input: { instructions: 'Call me Sam.' } });

    const text = 'Plan with an explorer';
    const childTask = 'Find where the ctx.server starts';
    const childGate = createGate();
    const isChild = (body: Parameters<typeof isTurn>[0]) =>
      isTurn(body) && firstUserText(body).includes(childTask);
    ctx.llm.script(
      toolStep(text, [{ id: 'spawn', name: 'spawn_explore_agent', args: { prompt: childTask } }]),
      textStep(text, 'Spawned.'),
      // The child's turn hangs until closed.
      { match: isChild, gate: childGate.promise, text: 'Still looking…' },
    );
    let parentStream: EventStream<ChatEvent> | undefined;
    try {
      const first = await runFirstTurn(member.client, text, { mode: 'PLAN' });
      const parentId = first.chatId;
      parentStream = first.stream;
      expect(resultOf(first.stream, 'spawn').isError).toBe(false);
      const spawned = resultOf(first.stream, 'spawn').result as { chat_id: string };
      // Its request reached the model: it is RUNNING now.
      const childRequest = await waitFor(() => ctx.llm.requests.map((r) => r.body).find(isChild));
      expect(childRequest.model).toBe('explore-model');
      expect(offeredTools(childRequest).sort()).toEqual(['execute', 'process_output', 'read_file']);

      const parentFirst = turnRequests(ctx.llm, text)[0]!;
      const system = systemTexts(parentFirst)[0]!;
      expect(system).toContain('Deployment rule: cite file paths.');
      expect(system).toContain('Call me Sam.');
      expect(offeredTools(parentFirst)).toEqual(
        expect.arrayContaining(['spawn_explore_agent', 'close_agent']),
      );

      // The parent closes it: the child's turn stops and it is archived.
      ctx.llm.script(
        toolStep(text, [{ id: 'close', name: 'close_agent', args: { chat_id: spawned.chat_id } }]),
        textStep(text, 'Closed it.'),
      );
      const stream = await runNextTurn(member.client, parentId, 'Close the explorer');
      try {
        expect(resultOf(stream, 'close')).toMatchObject({
          isError: false,
          result: { closed: true },
        });
      } finally {
        await stream.close();
      }
      const child = await waitFor(async () => {
        const row = await prisma().chat.findUniqueOrThrow({ where: { id: spawned.chat_id } });
        return row.archived && row.status !== 'RUNNING' ? row : undefined;
      });
      expect(child).toMatchObject({ archived: true, explore: true, parentId });
    } finally {
      childGate.open();
      await parentStream?.close();
      await ctx.server.admin.query(UPDATE, {
        input: { exploreModelConfigId: null, systemPromptAddition: null },
      });
    }
  });
});

/** Polls a condition the test cannot subscribe to (the fake LLM's requests, a row's state). */
async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met');
}
