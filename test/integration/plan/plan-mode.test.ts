import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import type { TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import {
  offeredTools,
  resultOf,
  runFirstTurn,
  textStep,
  toolStep,
  turnRequests,
  workspaceFromFirstTurn,
  type ChatEvent,
} from '../workspace/support.js';

/**
 * PLAN mode as the seeds run it (B20, issue #11): ask_user_question and propose_plan end the
 * turn; answerQuestion continues it; approvePlan switches to DEFAULT and implements the plan.
 */
const PLAN_EVENTS = `subscription ($chatId: ID!) {
  chatEvents(chatId: $chatId) {
    __typename
    ... on StatusEvent { status }
    ... on QuestionEvent { pendingQuestion { questions { header question options { label } } } }
    ... on PlanEvent { plan { title body path approvedAt } }
  }
}`;

interface PlanEvent {
  chatEvents: {
    __typename: string;
    status?: string;
    pendingQuestion?: { questions: { header: string }[] };
    plan?: { title: string; body: string; path: string | null; approvedAt: string | null };
  };
}

const CHAT_STATE = `query ($id: ID!) {
  chat(id: $id) {
    status mode
    pendingQuestion { questions { header question options { label description } } askedAt }
    plan { title body path proposedAt approvedAt }
  }
}`;

interface ChatState {
  chat: {
    status: string;
    mode: string;
    pendingQuestion: { questions: { header: string }[] } | null;
    plan: { title: string; body: string; path: string | null; approvedAt: string | null } | null;
  };
}

const QUESTION = {
  header: 'Language',
  question: 'Which language should the tool use?',
  options: [
    { label: 'TypeScript', description: 'typed' },
    { label: 'Python', description: 'scripted' },
  ],
};

describe('PLAN mode: ask, answer, propose, approve, implement (B20)', () => {
  const ctx = useDaemonServer();
  let member: { id: string; client: TestClient };
  let other: { id: string; client: TestClient };
  let workspaceId: string;
  let workspaceDir: string;

  beforeAll(async () => {
    member = await ctx.server.createMember();
    other = await ctx.server.createMember();
    ({ workspaceId, workspaceDir } = await workspaceFromFirstTurn(
      ctx.server,
      ctx.llm,
      member.client,
      'Make me a workspace to plan in',
    ));
  });

  it('stops at a question, continues on the answer, stops at a plan, implements on approval', async () => {
    const text = 'Plan a greeting tool';
    const planBody = '# Greeting tool\n\n1. Write src/greet.txt';
    ctx.llm.script(
      // Turn 1: explore with execute, then ask; the turn ends there (no step answers it).
      toolStep(text, [
        { id: 'ls', name: 'execute', args: { command: 'ls' } },
        { id: 'ask', name: 'ask_user_question', args: { questions: [QUESTION] } },
      ]),
    );
    const { chatId, stream } = await runFirstTurn(member.client, text, {
      workspaceId,
      mode: 'PLAN',
    });
    const planPath = `.agentgraph/plans/${chatId}.md`;
    ctx.llm.script(
      // Turn 2 (after the answer): a refused write, the plan file, then the proposal.
      toolStep(text, [
        { id: 'sneaky', name: 'write_file', args: { path: 'src/greet.txt', content: 'x' } },
      ]),
      toolStep(text, [
        { id: 'plan-file', name: 'write_file', args: { path: planPath, content: planBody } },
      ]),
      toolStep(text, [{ id: 'propose', name: 'propose_plan', args: { title: 'Greeting' } }]),
      // Turn 3 (approved, DEFAULT): implement.
      toolStep(text, [
        { id: 'impl', name: 'write_file', args: { path: 'src/greet.txt', content: 'hello\n' } },
      ]),
      textStep(text, 'Implemented.'),
    );
    const events = member.client.subscribe<PlanEvent>(PLAN_EVENTS, { chatId });
    try {
      // execute runs in PLAN mode, for exploration (the suite's machines have bubblewrap).
      const ls = resultOf(stream, 'ls');
      expect(ls).toMatchObject({ isError: false, result: { exit_code: 0 } });
      expect(resultOf(stream, 'ask')).toMatchObject({ isError: false });
      // One model call: the question ended the turn.
      expect(turnRequests(ctx.llm, text)).toHaveLength(1);
      const [firstRequest] = turnRequests(ctx.llm, text);
      const offered = offeredTools(firstRequest!);
      expect(offered).toEqual(
        expect.arrayContaining(['execute', 'process_output', 'write_file', 'edit_files']),
      );
      for (const name of ['create_workspace', 'start_workspace', 'spawn_agent']) {
        expect(offered).not.toContain(name);
      }
      let state = await member.client.query<ChatState>(CHAT_STATE, { id: chatId });
      expect(state.chat).toMatchObject({
        status: 'WAITING',
        mode: 'PLAN',
        pendingQuestion: { questions: [{ header: 'Language' }] },
        plan: null,
      });

      // Answering: the answer is the next user message, and the question is cleared.
      await member.client.query(
        'mutation ($chatId: ID!, $answers: [String!]!) { answerQuestion(chatId: $chatId, answers: $answers) { id } }',
        { chatId, answers: ['TypeScript'] },
      );
      await events.waitFor((e) => e.chatEvents.__typename === 'PlanEvent');
      await stream.waitFor((e) =>
        Boolean(e.chatEvents.message?.parts.some((p) => p.toolCallId === 'propose')),
      );
      await events.waitFor(
        (e) =>
          e.chatEvents.status === 'WAITING' &&
          events.events.findIndex((p) => p.chatEvents.plan) < events.events.indexOf(e),
      );
      const planEvent = events.events.find((e) => e.chatEvents.plan)!;
      expect(planEvent.chatEvents.plan).toMatchObject({
        title: 'Greeting',
        body: planBody,
        path: planPath,
        approvedAt: null,
      });
      expect(resultOf(stream, 'sneaky')).toMatchObject({
        isError: true,
        result: { error: expect.stringContaining(planPath) },
      });
      expect(existsSync(path.join(workspaceDir, 'src/greet.txt'))).toBe(false);
      expect(await fs.readFile(path.join(workspaceDir, planPath), 'utf8')).toBe(planBody);
      const answered = turnRequests(ctx.llm, text)[1]!;
      expect(JSON.stringify(answered.messages)).toContain('Answer: TypeScript');
      state = await member.client.query<ChatState>(CHAT_STATE, { id: chatId });
      expect(state.chat).toMatchObject({ status: 'WAITING', mode: 'PLAN', pendingQuestion: null });
      expect(state.chat.plan).toMatchObject({ title: 'Greeting', body: planBody, path: planPath });
      const requestsBeforeApproval = turnRequests(ctx.llm, text).length;

      // Approval: DEFAULT mode, the plan in the prompt, the implementation runs.
      const approved = await member.client.query<{ approvePlan: { mode: string } }>(
        'mutation ($chatId: ID!) { approvePlan(chatId: $chatId, feedback: "Keep it short") { mode } }',
        { chatId },
      );
      expect(approved.approvePlan.mode).toBe('DEFAULT');
      await stream.waitFor((e) =>
        Boolean(
          e.chatEvents.message?.parts.some((p) => p.type === 'TEXT' && p.text === 'Implemented.'),
        ),
      );
      const implementation = turnRequests(ctx.llm, text)[requestsBeforeApproval]!;
      const prompt = JSON.stringify(implementation.messages);
      expect(prompt).toContain('Keep it short');
      expect(prompt).toContain('Write src/greet.txt');
      expect(offeredTools(implementation)).toContain('create_workspace');
      expect(resultOf(stream, 'impl')).toMatchObject({ isError: false });
      expect(await fs.readFile(path.join(workspaceDir, 'src/greet.txt'), 'utf8')).toBe('hello\n');
      state = await member.client.query<ChatState>(CHAT_STATE, { id: chatId });
      expect(state.chat.plan?.approvedAt).toEqual(expect.any(String));

      // Approving twice, or another user approving, changes nothing.
      const again = await member.client.expectError(
        'mutation ($chatId: ID!) { approvePlan(chatId: $chatId) { id } }',
        { chatId },
      );
      expect(again.codes).toEqual(['CONFLICT']);
    } finally {
      await events.close();
      await stream.close();
    }
  });

  it('refuses approvePlan and answerQuestion without a plan or question, and for another user', async () => {
    const text = 'Just say hi';
    ctx.llm.script(textStep(text, 'Hi.'));
    const { chatId, stream } = await runFirstTurn(member.client, text, { mode: 'PLAN' });
    await stream.close();
    const before = await ctx.server.app.deps.prisma.chat.findUniqueOrThrow({
      where: { id: chatId },
    });
    const messagesBefore = await ctx.server.app.deps.prisma.chatMessage.count({
      where: { chatId },
    });

    const noPlan = await member.client.expectError(
      'mutation ($chatId: ID!) { approvePlan(chatId: $chatId) { id } }',
      { chatId },
    );
    expect(noPlan.codes).toEqual(['CONFLICT']);
    const noQuestion = await member.client.expectError(
      'mutation ($chatId: ID!) { answerQuestion(chatId: $chatId, answers: ["x"]) { id } }',
      { chatId },
    );
    expect(noQuestion.codes).toEqual(['CONFLICT']);
    const foreign = await other.client.expectError(
      'mutation ($chatId: ID!) { approvePlan(chatId: $chatId) { id } }',
      { chatId },
    );
    expect(foreign.codes).toEqual(['NOT_FOUND']);

    const after = await ctx.server.app.deps.prisma.chat.findUniqueOrThrow({
      where: { id: chatId },
    });
    expect(after).toMatchObject({ mode: 'PLAN', status: before.status, plan: null });
    expect(await ctx.server.app.deps.prisma.chatMessage.count({ where: { chatId } })).toBe(
      messagesBefore,
    );
  });
});

export type { ChatEvent };
