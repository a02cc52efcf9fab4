import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { workspaceSummary } from './create-workspace.js';
import { defineTool, ok } from './tool.js';
import { failureOf } from './workspace-support.js';

const argsSchema = z.strictObject({});

/**
 * Stops the chat's workspace (issue #13, as the seeds have it): its agent and every process in it
 * end, its files stay, and start_workspace brings it back. The workspace TTL does the same to an
 * idle workspace.
 */
export function createStopWorkspaceTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'stop_workspace',
    description:
      "Stop this chat's workspace when the work in it is done: every process running in it " +
      'ends; its files are kept, and start_workspace starts it again. Takes no arguments.',
    schema: argsSchema,
    readOnly: false,
    rootOnly: true,
    async execute(_args, context) {
      try {
        const workspace = await workspaces.workspaceForChat(context.chatId);
        if (!workspace) {
          return ok({ stopped: false, message: 'This chat has no workspace.' });
        }
        if (workspace.status === 'STOPPED') {
          return ok({
            stopped: false,
            workspace: workspaceSummary(workspace),
            message: 'The workspace is already stopped.',
          });
        }
        await workspaces.stopWorkspace(workspace.id);
        return ok({
          stopped: true,
          workspace: { ...workspaceSummary(workspace), status: 'STOPPED' },
          message: `Workspace ${workspace.name} is stopped. Use start_workspace to start it again.`,
        });
      } catch (error) {
        return failureOf(error);
      }
    },
  });
}
