import type { ChatService } from '../chats/service.js';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { findDescendant } from './subagents.js';
import { fail, ok, type Tool } from './tool.js';
import { storableText } from '../text/storable.js';

/** message_agent (B19): sends a follow-up to a child agent, queued or interrupting its turn. */
export function createMessageAgentTool(deps: Deps, chats: ChatService): Tool {
  return {
    name: 'message_agent',
    description:
      'Send a follow-up message to a child agent started with spawn_agent. By default it is ' +
      "queued behind the child's current turn; interrupt: true stops that turn and runs the " +
      'message next. Returns {chat_id, status, queued}. Use wait_agent afterwards for the answer.',
    parameters: {
      type: 'object',
      properties: {
        chat_id: { type: 'string', description: 'The chat_id returned by spawn_agent.' },
        message: { type: 'string', description: 'The message to send.' },
        interrupt: { type: 'boolean', description: 'Interrupt the running turn (default false).' },
      },
      required: ['chat_id', 'message'],
      additionalProperties: false,
    },
    readOnly: false,
    rootOnly: true,
    async execute(args, context) {
      const child = await findDescendant(deps.prisma, context, args['chat_id']);
      if (!child) return fail('chat_id is not a subagent of this chat');
      // Stored as a message or queued message: storable, like every model-written text.
      const text = storableText(typeof args['message'] === 'string' ? args['message'] : '');
      if (!text.trim()) return fail('message is required');
      const owner = await deps.prisma.user.findUniqueOrThrow({ where: { id: child.ownerId } });
      try {
        const result = await chats.sendMessage(
          { id: owner.id, username: owner.username, role: owner.role },
          {
            chatId: child.id,
            text,
            busyBehavior: args['interrupt'] === true ? 'INTERRUPT' : 'QUEUE',
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
  };
}
