import path from 'node:path';

import { planFilePath } from '../chats/plan-mode.js';
import type { Tool, ToolContext } from './tool.js';

/**
 * Which tools a PLAN turn is offered (B20, as the seeds run it): read-only tools, the planning
 * tools (ask_user_question, propose_plan), shell exploration, and the file writers restricted to
 * the chat's plan file. Workspace-changing and implementation tools (create/start workspace,
 * spawning non-read-only agents, MCP) are not offered: they are neither read-only nor listed here.
 */

/** Not read-only, yet offered to PLAN turns so the agent can explore (`ls`, `git log`, tests). */
export const PLAN_EXPLORATION_TOOLS: ReadonlySet<string> = new Set(['execute', 'process_output']);

/** Offered to PLAN turns, but every path they write must be the chat's plan file. */
export const PLAN_FILE_TOOLS: ReadonlySet<string> = new Set(['write_file', 'edit_files']);

/**
 * The predicate the registry filters PLAN turns with. A tool added elsewhere (MCP, dynamic) is
 * offered in PLAN mode only when it is read-only or a planning tool.
 */
export function offeredInPlanMode(tool: Pick<Tool, 'name' | 'readOnly' | 'planTool'>): boolean {
  return (
    tool.readOnly ||
    tool.planTool === true ||
    PLAN_EXPLORATION_TOOLS.has(tool.name) ||
    PLAN_FILE_TOOLS.has(tool.name)
  );
}

/**
 * Why a PLAN turn's call of a file writer is refused (a path other than the plan file), or null
 * when it may run. Checked at execution, so a path the model invents cannot slip past the filter.
 */
export function planModeViolation(
  toolName: string,
  args: Record<string, unknown>,
  context: Pick<ToolContext, 'mode' | 'chatId'>,
): string | null {
  if (context.mode !== 'PLAN' || !PLAN_FILE_TOOLS.has(toolName)) return null;
  const allowed = planFilePath(context.chatId);
  const paths =
    toolName === 'write_file'
      ? [args['path']]
      : Array.isArray(args['files'])
        ? args['files'].map((file: unknown) => (file as Record<string, unknown> | null)?.['path'])
        : [];
  if (paths.length === 0) return null; // the tool's own validation answers
  for (const candidate of paths) {
    if (!isPlanFile(candidate, allowed)) {
      return `In PLAN mode ${toolName} may only write the plan file ${allowed} (a path relative to the workspace root)`;
    }
  }
  return null;
}

function isPlanFile(candidate: unknown, allowed: string): boolean {
  if (typeof candidate !== 'string' || path.posix.isAbsolute(candidate)) return false;
  return path.posix.normalize(candidate) === allowed;
}
