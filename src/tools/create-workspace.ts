import { z } from 'zod';

import type { Workspace } from '../generated/prisma/client.js';
import { readWorkspaceInstructions } from '../workspace/instructions.js';
import type { StartupScriptReport, WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { failureOf } from './workspace-support.js';

/** Startup script output shown to the model: its end, where errors are. */
const MAX_STARTUP_OUTPUT_CHARS = 4 * 1024;

const argsSchema = z.strictObject({
  template: z
    .string()
    .min(1, 'template must not be empty; use list_templates to find one')
    .describe('Template name, exactly as list_templates shows it.'),
  name: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Workspace name: letters, digits, ".", "_" and "-", up to 64 characters. Default: the ' +
        'template name and a random suffix.',
    ),
});

/** Creates the chat's workspace from a template (B18); idempotent per chat. */
export function createCreateWorkspaceTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'create_workspace',
    description:
      'Create a workspace for this chat from a template and bind it to the chat: a directory ' +
      "with the template's files, in which read_file, write_file, edit_files and execute " +
      "then work. Waits for the template's startup script to finish and reports its result. " +
      'Idempotent: if the chat already has a running workspace, nothing is created and that one ' +
      'is reported (created: false); a stopped one must be started with start_workspace. Use ' +
      "list_templates to choose a template. The result includes the workspace's AGENTS.md " +
      'instructions when it has them.',
    schema: argsSchema,
    readOnly: false,
    rootOnly: true,
    async execute(args, context) {
      try {
        const result = await workspaces.createWorkspace(
          { ownerId: context.ownerId, chatId: context.chatId, ...args },
          { signal: context.signal },
        );
        if (!result.created) {
          return ok({
            created: false,
            status: result.reason,
            workspace: workspaceSummary(result.workspace),
            message:
              result.reason === 'stopped'
                ? "The chat's workspace is stopped. Use start_workspace to start it."
                : 'The chat already has a running workspace; it was not replaced. Use it.',
          });
        }
        const { workspace, startup } = result;
        const instructions = await readWorkspaceInstructions(
          await workspaces.clientFor(workspace.id),
          { signal: context.signal },
        ).catch(() => null);
        return ok({
          created: true,
          workspace: workspaceSummary(workspace),
          startup_script: startupSummary(startup),
          ...(instructions === null ? {} : { instructions }),
          message:
            startup.status === 'succeeded' || startup.status === 'none'
              ? `Workspace ${workspace.name} is ready and bound to this chat.`
              : `Workspace ${workspace.name} is bound to this chat, but its startup script ` +
                `${startup.status === 'timed_out' ? 'timed out' : 'failed'} (see ` +
                'startup_script.output). Its files can still be used; fix the problem with ' +
                'execute, or call create_workspace again for a fresh workspace.',
        });
      } catch (error) {
        return failureOf(error);
      }
    },
  });
}

export function workspaceSummary(workspace: Workspace) {
  return {
    id: workspace.id,
    name: workspace.name,
    template: workspace.template,
    status: workspace.status,
  };
}

export function startupSummary(startup: StartupScriptReport) {
  const output =
    startup.output.length > MAX_STARTUP_OUTPUT_CHARS
      ? startup.output.slice(-MAX_STARTUP_OUTPUT_CHARS)
      : startup.output;
  return {
    status: startup.status,
    script: startup.script,
    exit_code: startup.exitCode,
    output,
    truncated: startup.truncated || output.length < startup.output.length,
    wall_duration_ms: startup.wallDurationMs,
  };
}
