import type { TurnEnvironment } from '../daemon/run-chat.js';
import type { Logger } from '../logger.js';
import { WorkspaceAgentError, type WorkspaceAgentClient } from './agent-client.js';
import { WorkspaceError, type WorkspaceManager } from './service.js';

/**
 * Workspace instructions (B10, issue 5): an AGENTS.md in the workspace root is added to the system
 * prompt, the convention coding agents share for "how to work in this repository". It is read
 * through the agent (so the path checks apply and a remote workspace works the same) and capped,
 * since it is sent with every model call of every turn.
 */

export const INSTRUCTIONS_FILE = 'AGENTS.md';
/** Most bytes of AGENTS.md put into the prompt. */
export const MAX_INSTRUCTIONS_BYTES = 32 * 1024;
const TRUNCATION_NOTE = `\n\n[${INSTRUCTIONS_FILE} was truncated at ${MAX_INSTRUCTIONS_BYTES / 1024} KiB]`;

/** The AGENTS.md of the workspace root, capped; null when there is none. */
export async function readWorkspaceInstructions(
  client: WorkspaceAgentClient,
  options: { signal?: AbortSignal } = {},
): Promise<string | null> {
  let content: string;
  try {
    content = (await client.readFile({ path: INSTRUCTIONS_FILE }, options)).content;
  } catch (error) {
    if (error instanceof WorkspaceAgentError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
  const bytes = Buffer.from(content, 'utf8');
  if (bytes.length <= MAX_INSTRUCTIONS_BYTES) return content;
  // A character cut in half decodes as U+FFFD; dropping it keeps the text clean.
  const cut = bytes
    .subarray(0, MAX_INSTRUCTIONS_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return cut + TRUNCATION_NOTE;
}

/** The system message that carries a workspace's AGENTS.md. */
export function instructionsMessage(workspaceName: string, content: string): string {
  return (
    `Workspace instructions: the ${INSTRUCTIONS_FILE} file in the root of the workspace ` +
    `"${workspaceName}" says how to work in it. Follow it unless the user says otherwise.\n\n` +
    content
  );
}

/**
 * TurnEnvironment.instructionsFor for the daemon. A stopped workspace is not started just for
 * this (start_workspace does that); any failure leaves the instructions out rather than failing
 * the turn.
 */
export function createWorkspaceInstructions(
  workspaces: WorkspaceManager,
  logger: Logger,
): NonNullable<TurnEnvironment['instructionsFor']> {
  return async (chat) => {
    if (!chat.workspaceId) return [];
    try {
      const workspace = await workspaces.workspaceForChat(chat.id);
      if (!workspace || workspace.status === 'STOPPED') return [];
      const content = await readWorkspaceInstructions(await workspaces.clientFor(workspace.id));
      return content === null ? [] : [instructionsMessage(workspace.name, content)];
    } catch (error) {
      const expected = error instanceof WorkspaceError || error instanceof WorkspaceAgentError;
      logger[expected ? 'info' : 'warn']('workspace instructions unavailable', {
        chatId: chat.id,
        error,
      });
      return [];
    }
  };
}
