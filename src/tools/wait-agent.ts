import { z } from 'zod';

import { partsText, readParts } from '../chats/parts.js';
import type { Deps } from '../deps.js';
import { topics } from '../pubsub/index.js';
import { AGENT_REPORT_MAX_CHARS, findDescendant } from './subagents.js';
import { defineTool, fail, ok } from './tool.js';

const DEFAULT_TIMEOUT_SECONDS = 300;
const MAX_TIMEOUT_SECONDS = 1_800;
const BUSY = new Set(['PENDING', 'RUNNING']);

const argsSchema = z.strictObject({
  chat_id: z.string().describe('The chat_id returned by spawn_agent.'),
  timeout_seconds: z
    .int()
    .min(1)
    .max(MAX_TIMEOUT_SECONDS)
    .optional()
    .describe(`How long to wait (default ${DEFAULT_TIMEOUT_SECONDS}).`),
});

/**
 * wait_agent (B19): waits through pub/sub, not polling — it subscribes to the child's events, then
 * reads its status, and re-reads it whenever a StatusEvent arrives.
 */
export function createWaitAgentTool(deps: Deps) {
  const { prisma, pubsub } = deps;
  return defineTool({
    name: 'wait_agent',
    description:
      'Wait until a child agent started with spawn_agent finishes its turn, then return its ' +
      'report: {chat_id, title, status, report} where report is its last answer. Fails if the ' +
      'child ended in ERROR or the timeout passes (it keeps running; wait again).',
    schema: argsSchema,
    readOnly: true,
    rootOnly: true,
    async execute(args, context) {
      const child = await findDescendant(prisma, context, args.chat_id);
      if (!child) return fail('chat_id is not a subagent of this chat');
      const timeoutMs = (args.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;

      // Level-triggered: a StatusEvent only marks the child "changed". The mark is cleared before
      // each read, so an event that lands while the read is in flight is seen by the wait right
      // after it, instead of waking a promise nobody awaits any more (a lost wake-up).
      const changes = createChangeLatch(context.signal);
      const unsubscribe = await pubsub.subscribe(topics.chatEvents(child.id), (event) => {
        if (event.__typename === 'StatusEvent') changes.mark();
      });
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          changes.clear();
          const current = await prisma.chat.findUniqueOrThrow({ where: { id: child.id } });
          if (!BUSY.has(current.status)) {
            if (current.status === 'ERROR') {
              return fail(`Subagent failed: ${current.lastError ?? 'unknown error'}`, {
                chat_id: child.id,
                status: current.status,
              });
            }
            return ok({
              chat_id: child.id,
              title: current.title,
              status: current.status,
              report: await lastAnswer(child.id),
            });
          }
          const remaining = deadline - Date.now();
          if (remaining <= 0 || context.signal.aborted) {
            return fail('Timed out waiting for the subagent; it is still running', {
              chat_id: child.id,
              status: current.status,
            });
          }
          await changes.wait(remaining);
        }
      } finally {
        changes.dispose();
        await unsubscribe();
      }
    },
  });

  async function lastAnswer(chatId: string) {
    const message = await prisma.chatMessage.findFirst({
      where: { chatId, role: 'ASSISTANT', deleted: false },
      orderBy: { id: 'desc' },
    });
    const text = message ? partsText(readParts(message.contentVersion, message.parts)) : '';
    return text.slice(0, AGENT_REPORT_MAX_CHARS);
  }
}

/**
 * A "something changed" flag with a bounded wait: `wait` returns at once when the flag was set
 * since the last `clear`, otherwise when it is set, the signal aborts or `ms` pass. One abort
 * listener for the latch's life, not one per wait.
 */
export function createChangeLatch(signal: AbortSignal) {
  let changed = false;
  let wakeWaiter: (() => void) | undefined;
  const mark = () => {
    changed = true;
    wakeWaiter?.();
  };
  signal.addEventListener('abort', mark, { once: true });
  return {
    mark,
    clear() {
      changed = false;
    },
    async wait(ms: number): Promise<void> {
      if (changed || signal.aborted) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wakeWaiter = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      wakeWaiter = undefined;
    },
    dispose() {
      signal.removeEventListener('abort', mark);
      wakeWaiter?.();
    },
  };
}
