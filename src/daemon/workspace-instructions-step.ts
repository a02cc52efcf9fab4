import type { LlmMessage } from '../llm/index.js';
import type { LoopCallbacks } from './loop.js';
import type { TurnEnvironment } from './run-chat.js';

type AfterStep = NonNullable<LoopCallbacks['afterStep']>;

/**
 * A workspace's AGENTS.md reaches the system prompt from the step right after create_workspace
 * made it (issue #13), not only from the next turn: after a step whose create_workspace call
 * created the workspace, the instructions are read and inserted after the prompt's leading system
 * messages, once per turn. Wraps the turn's other afterStep work (compaction), which runs first.
 */
export function withInstructionsAfterCreate(
  instructionsFor: TurnEnvironment['instructionsFor'],
  chat: { id: string; parentId: string | null; workspaceId: string | null },
  next: AfterStep | undefined,
): AfterStep | undefined {
  // A chat that had its workspace at the start of the turn got the instructions already.
  if (!instructionsFor || chat.workspaceId !== null) return next;
  let added = false;
  return async (usage, messages) => {
    const compacted = next ? await next(usage, messages) : null;
    if (added) return compacted;
    const prompt = compacted ?? messages;
    const workspaceId = createdWorkspaceId(prompt);
    if (workspaceId === null) return compacted;
    added = true;
    const instructions = await instructionsFor({ ...chat, workspaceId });
    if (instructions.length === 0) return compacted;
    const leading = prompt.findIndex((message) => message.role !== 'system');
    const at = leading === -1 ? prompt.length : leading;
    return [
      ...prompt.slice(0, at),
      ...instructions.map((content): LlmMessage => ({ role: 'system', content })),
      ...prompt.slice(at),
    ];
  };
}

/** The id of a workspace a create_workspace call in the last step created, else null. */
function createdWorkspaceId(messages: LlmMessage[]): string | null {
  const lastAssistant = messages.findLastIndex((message) => message.role === 'assistant');
  if (lastAssistant === -1) return null;
  const step = messages[lastAssistant]!;
  if (step.role !== 'assistant') return null;
  const calls = new Set(
    (step.toolCalls ?? []).filter((call) => call.name === 'create_workspace').map((c) => c.id),
  );
  for (const message of messages.slice(lastAssistant + 1)) {
    if (message.role !== 'tool' || !calls.has(message.toolCallId)) continue;
    try {
      const result = JSON.parse(message.content) as {
        created?: unknown;
        workspace?: { id?: unknown };
      };
      if (result.created === true && typeof result.workspace?.id === 'string') {
        return result.workspace.id;
      }
    } catch {
      // Not a JSON result: not a created workspace.
    }
  }
  return null;
}
