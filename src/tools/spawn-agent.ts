import { z } from 'zod';

import { initialTitle } from '../chats/titles.js';
import { storableText } from '../text/storable.js';
import { createPendingChat } from '../chats/transitions.js';
import type { ChatEvents } from '../chats/events.js';
import type { Deps } from '../deps.js';
import { topics } from '../pubsub/index.js';
import { defineTool, fail, ok } from './tool.js';

const MAX_PROMPT_LENGTH = 50_000;

const argsSchema = z.strictObject({
  prompt: z
    .string()
    .trim()
    .min(1, 'prompt is required')
    .max(MAX_PROMPT_LENGTH, `prompt must be at most ${MAX_PROMPT_LENGTH} characters`)
    .describe('The complete task for the child: goal, context, constraints, what to report.'),
  title: z.string().trim().optional().describe('A short title for the child chat.'),
});

/** spawn_agent (B19): a child chat with its own turn, in the same workspace and model. */
export function createSpawnAgentTool(deps: Deps, events: ChatEvents) {
  return defineTool({
    name: 'spawn_agent',
    description:
      'Spawn a delegated child agent to work on a clearly scoped, independent task in parallel ' +
      '(e.g. fixing a specific bug, writing a single module). The child gets the same workspace ' +
      'and tools but cannot spawn agents or create workspaces. Do not use it for quick operations ' +
      'you can do directly. If two children edit the same files they conflict, so keep parallel ' +
      'tasks independent. Returns {chat_id, title, status}; then use wait_agent to collect its report.',
    schema: argsSchema,
    readOnly: false,
    rootOnly: true,
    async execute(args, context) {
      // Model-written text becomes a chat's title and first message: make it storable (a NUL or a
      // lone surrogate would make Postgres refuse the rows, src/text/storable.ts).
      const prompt = storableText(args.prompt);
      if (context.isSubagent) return fail('Delegated chats cannot spawn agents');
      const parent = await deps.prisma.chat.findUniqueOrThrow({ where: { id: context.chatId } });
      const title = initialTitle(args.title ? storableText(args.title) : prompt);
      const { chat: child, message } = await deps.prisma.$transaction((tx) =>
        createPendingChat(
          tx,
          {
            ownerId: parent.ownerId,
            title,
            modelConfigId: parent.modelConfigId,
            workspaceId: parent.workspaceId,
            parentId: parent.id,
            rootId: parent.rootId ?? parent.id,
          },
          prompt,
          parent.ownerId,
        ),
      );
      await events.list(child.ownerId, 'CREATED', child.id);
      await events.message(message);
      await deps.pubsub
        .publish(topics.daemonWake(), { reason: 'subagent spawned' })
        .catch(() => undefined);
      return ok({ chat_id: child.id, title: child.title, status: child.status });
    },
  });
}
