import { z } from 'zod';

import type { ChatService } from '../chats/service.js';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { findDescendant } from './subagents.js';
import { defineTool, fail, ok } from './tool.js';

const argsSchema = z.strictObject({
  chat_id: z.string().describe('The chat_id returned by spawn_agent or spawn_explore_agent.'),
});

/**
 * close_agent (issue #13): stops a child's turn and archives it, with its own children. The
 * archive is the user's archive (chats service), so the child's turn is interrupted the same way
 * and its list events are published.
 */
export function createCloseAgentTool(deps: Deps, chats: ChatService) {
  return defineTool({
    name: 'close_agent',
    description:
      'Close a child agent you no longer need: its running turn stops and the child chat is ' +
      'archived. Collect its report with wait_agent first if you need it. Returns {chat_id, ' +
      'closed}.',
    schema: argsSchema,
    readOnly: false,
    // Closing one's own children is part of exploring in PLAN mode, like spawning them.
    planTool: true,
    rootOnly: true,
    async execute(args, context) {
      const child = await findDescendant(deps.prisma, context, args.chat_id);
      if (!child) return fail('chat_id is not a subagent of this chat');
      if (child.archived)
        return ok({ chat_id: child.id, closed: false, message: 'Already closed.' });
      const owner = await deps.prisma.user.findUniqueOrThrow({ where: { id: child.ownerId } });
      try {
        await chats.setArchived(
          { id: owner.id, username: owner.username, role: owner.role },
          child.id,
          true,
        );
        return ok({ chat_id: child.id, closed: true });
      } catch (error) {
        if (error instanceof AppError) return fail(error.message);
        throw error;
      }
    },
  });
}
