import { describe, expect, it, vi } from 'vitest';
import type { Deps } from '../../../src/deps.js';
import { topics } from '../../../src/pubsub/index.js';
import { createWaitAgentTool } from '../../../src/tools/wait-agent.js';
import type { ToolContext } from '../../../src/tools/tool.js';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';

describe('wait_agent', () => {
  // No daemon: the test plays the child's turn itself.
  const ctx = useDaemonServer({ env: { DAEMON_ENABLED: 'false' } });

  /** A member's parent chat with a RUNNING subagent, as spawn_agent leaves them. */
  async function runningChild(abort: AbortController) {
    const member = await ctx.server.createMember();
    const create = (text: string) =>
      member.client.query(CreateChatMutation, { input: { text } }).then((r) => r.createChat.id);
    const parentId = await create('parent');
    const childId = await create('child');
    await ctx.server.app.deps.prisma.chat.update({
      where: { id: childId },
      data: { status: 'RUNNING', parentId, rootId: parentId },
    });
    const context: ToolContext = {
      chatId: parentId,
      ownerId: member.id,
      rootChatId: parentId,
      isSubagent: false,
      mode: 'DEFAULT',
      workspaceId: null,
      signal: abort.signal,
    };
    return { childId, context };
  }

  it('sees a child that finishes between its status read and its wait (no lost wake-up)', async () => {
    const { childId, context } = await runningChild(new AbortController());
    const { prisma, pubsub } = ctx.server.app.deps;

    // The child finishes while wait_agent's read is in flight: the read returns the stale
    // RUNNING row, and the StatusEvent is published before the tool starts waiting.
    let reads = 0;
    const racingChat = new Proxy(prisma.chat, {
      get(target, property, receiver) {
        if (property !== 'findUniqueOrThrow') return Reflect.get(target, property, receiver);
        return async (args: Parameters<typeof prisma.chat.findUniqueOrThrow>[0]) => {
          const stale = await target.findUniqueOrThrow(args);
          if (++reads === 1) {
            await target.update({ where: { id: childId }, data: { status: 'WAITING' } });
            await pubsub.publish(topics.chatEvents(childId), {
              __typename: 'StatusEvent',
              chatId: childId,
              status: 'WAITING',
              lastError: null,
            });
          }
          return stale;
        };
      },
    });
    const racingPrisma = new Proxy(prisma, {
      get: (target, property, receiver) =>
        property === 'chat' ? racingChat : Reflect.get(target, property, receiver),
    });
    const tool = createWaitAgentTool({ ...ctx.server.app.deps, prisma: racingPrisma } as Deps);

    // Timers are frozen while the tool runs: with a lost wake-up it would sleep until a timeout
    // that never fires (and this test would time out); level-triggered, it re-reads at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const outcome = await tool
      .execute({ chat_id: childId, timeout_seconds: 30 }, context)
      .finally(() => vi.useRealTimers());
    expect(outcome.result).not.toHaveProperty('error');
    expect(outcome.isError).toBe(false);
    expect(outcome.result).toMatchObject({ chat_id: childId, status: 'WAITING' });
    expect(reads).toBe(2);
  });

  it('returns at once when the turn is aborted while waiting', async () => {
    const abort = new AbortController();
    const { childId, context } = await runningChild(abort);
    const tool = createWaitAgentTool(ctx.server.app.deps);
    const waiting = tool.execute({ chat_id: childId, timeout_seconds: 1_800 }, context);
    abort.abort();
    const outcome = await waiting;
    expect(outcome.isError).toBe(true);
    expect(outcome.result).toMatchObject({ status: 'RUNNING' });
  });
});
