import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { startupSummary, workspaceSummary } from './create-workspace.js';
import { defineTool, ok } from './tool.js';
import { failureOf } from './workspace-support.js';

const argsSchema = z.strictObject({});

/** Starts the chat's stopped (or failed) workspace again. */
export function createStartWorkspaceTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'start_workspace',
    description:
      "Start this chat's workspace when it is stopped (tools then answer that it is stopped) " +
      'or failed to start. Runs its startup script again and waits for it. Does nothing when the ' +
      'workspace is already running. Takes no arguments.',
    schema: argsSchema,
    readOnly: false,
    rootOnly: true,
    async execute(_args, context) {
      try {
        const result = await workspaces.startWorkspace(context.chatId, { signal: context.signal });
        if (!result.started) {
          return ok({
            started: false,
            status: result.reason,
            workspace: workspaceSummary(result.workspace),
            message: 'The workspace is already running.',
          });
        }
        return ok({
          started: true,
          workspace: workspaceSummary(result.workspace),
          startup_script: startupSummary(result.startup),
          message:
            result.workspace.status === 'RUNNING'
              ? `Workspace ${result.workspace.name} is running.`
              : `Workspace ${result.workspace.name} started, but its startup script did not ` +
                'succeed (see startup_script.output).',
        });
      } catch (error) {
        return failureOf(error);
      }
    },
  });
}
