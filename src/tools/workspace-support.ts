import {
  WorkspaceAgentError,
  type ProcessOutputResponse,
  type WorkspaceAgentClient,
} from '../workspace/agent-client.js';
import {
  NO_WORKSPACE_MESSAGE,
  STOPPED_MESSAGE,
  WorkspaceError,
  type WorkspaceManager,
} from '../workspace/service.js';
import { TemplateError } from '../workspace/templates.js';
import { fail, type ToolContext, type ToolOutcome } from './tool.js';

/**
 * What the workspace tools share: the
 * lookup of the chat's workspace and agent, and the mapping of expected failures to error results.
 */

/**
 * Longest the model may ask one tool call to wait on the agent (execute's timeout, process_output's
 * wait). The agent allows five minutes, but fetch (undici) gives up on a response whose headers
 * take 300 s, which would turn a long wait into an "unreachable" error.
 */
export const MAX_AGENT_WAIT_SECONDS = 240;

/** The fields every JSON schema of a path argument shares. */
export const PATH_DESCRIPTION =
  'Path of the file, relative to the workspace root (e.g. "src/index.js"). Absolute paths must ' +
  'lie inside the workspace; paths that lead outside it are refused.';

/** Turns the expected failures of workspace calls into error results; rethrows bugs. */
export function failureOf(error: unknown): ToolOutcome {
  if (error instanceof WorkspaceError || error instanceof TemplateError) {
    return fail(error.message, { code: error.code });
  }
  if (error instanceof WorkspaceAgentError) {
    return fail(error.message, {
      code: error.code,
      ...(error.details ? { details: error.details } : {}),
    });
  }
  throw error;
}

export interface WithWorkspaceOptions {
  /**
   * The work runs commands (execute, the process tools): refused with SANDBOX_UNAVAILABLE for a
   * MEMBER's workspace when the server has no sandbox (see WorkspaceManager.assertCommandsAllowed).
   */
  commands?: boolean;
}

/**
 * Runs `work` with a client for the chat's workspace agent. No workspace, a stopped one or an
 * agent that cannot be reached come back as error results telling the model what to do.
 */
export async function withWorkspace(
  workspaces: WorkspaceManager,
  context: ToolContext,
  work: (client: WorkspaceAgentClient) => Promise<ToolOutcome>,
  options: WithWorkspaceOptions = {},
): Promise<ToolOutcome> {
  // Read now, not from the context: create_workspace earlier in this turn may have bound it.
  const workspace = await workspaces.workspaceForChat(context.chatId);
  if (!workspace) return fail(NO_WORKSPACE_MESSAGE, { code: 'NO_WORKSPACE' });
  if (workspace.status === 'STOPPED') return fail(STOPPED_MESSAGE, { code: 'STOPPED' });
  try {
    if (options.commands) await workspaces.assertCommandsAllowed(workspace);
    const client = await workspaces.clientFor(workspace.id);
    return await work(client);
  } catch (error) {
    if (error instanceof WorkspaceAgentError && error.code === 'AGENT_UNREACHABLE') {
      workspaces.invalidate(workspace.id);
    }
    return failureOf(error);
  }
}

/** A process's state as execute and process_output report it (B17). */
export interface ProcessResult {
  exit_code: number | null;
  output: string;
  wall_duration_ms: number;
  truncated: boolean;
  /** Set when the process was ended by a signal (e.g. "SIGKILL"). */
  signal?: string;
  running?: true;
  process_id?: string;
  note?: string;
}

/** The B17 result shape of a process; a running one also carries its id and what to do next. */
export function processResult(output: ProcessOutputResponse, note?: string): ProcessResult {
  const result: ProcessResult = {
    exit_code: output.exitCode,
    output: output.output,
    wall_duration_ms: output.wallDurationMs,
    truncated: output.truncated,
  };
  if (output.signal) result.signal = output.signal;
  if (output.running) {
    result.running = true;
    result.process_id = output.id;
    result.note =
      note ??
      `The process is still running (it was not stopped). Call process_output with process_id ` +
        `${output.id} (wait_seconds to wait for it to finish), or process_signal to stop it.`;
  } else if (note) {
    result.note = note;
  }
  return result;
}
