import { z } from 'zod';

import type { ChatService } from '../chats/service.js';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { findDescendant } from './subagents.js';
import { defineTool, fail, ok } from './tool.js';
import { storableText } from '../text/storable.js';

const argsSchema = z.strictObject({
  chat_id: z.string().describe('The chat_id returned by spawn_agent.'),
  message: z.string().describe('The message to send.'),
  interrupt: z.boolean().optional().describe('Interrupt the running turn (default false).'),
});

/** message_agent (B19): sends a follow-up to a child agent, queued or interrupting its turn. */
export function createMessageAgentTool(deps: Deps, chats: ChatService) {
  return defineTool({
    name: 'message_agent',
    description:
      'Send a follow-up message to a child agent started with spawn_agent. By default it is ' +
      "queued behind the child's current turn; interrupt: true stops that turn and runs the " +
      'message next. Returns {chat_id, status, queued}. Use wait_agent afterwards for the answer.',
    schema: argsSchema,
    readOnly: false,
    rootOnly: true,
    async execute(args, context) {
      const child = await findDescendant(deps.prisma, context, args.chat_id);
      if (!child) return fail('chat_id is not a subagent of this chat');
      // Stored as a message or queued message: storable, like every model-written text.
      const text = storableText(args.message);
      if (!text.trim()) return fail('message is required');
      const owner = await deps.prisma.user.findUniqueOrThrow({ where: { id: child.ownerId } });
      try {
        const result = await chats.sendMessage(
          { id: owner.id, username: owner.username, role: owner.role },
          {
            chatId: child.id,
            text,
            busyBehavior: args.interrupt ? 'INTERRUPT' : 'QUEUE',
          },
        );
        return ok({
          chat_id: child.id,
          status: result.chat.status,
          queued: result.queuedMessage !== null,
        });
      } catch (error) {
        if (error instanceof AppError) return fail(error.message);
        throw error;
      }
    },
  });
}
