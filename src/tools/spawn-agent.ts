import { z } from 'zod';

import type { ChatEvents } from '../chats/events.js';
import type { Deps } from '../deps.js';
import { childPromptSchema, spawnChildChat } from './subagents.js';
import { defineTool, fail, ok } from './tool.js';

const argsSchema = z.strictObject({
  prompt: childPromptSchema(
    'The complete task for the child: goal, context, constraints, what to report.',
  ),
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
      if (context.isSubagent) return fail('Delegated chats cannot spawn agents');
      const child = await spawnChildChat(deps, events, context, args);
      return ok({ chat_id: child.id, title: child.title, status: child.status });
    },
  });
}
