import type { Deps } from './deps.js';
import { createUserService } from './users/service.js';
import { createProviderService } from './providers/service.js';
import { createSettingsService } from './settings/service.js';
import { createDeploymentSettingsService } from './settings/deployment.js';
import { createUserSettingsService } from './settings/user-settings.js';
import { createUsageService } from './usage/service.js';
import { createChatService } from './chats/service.js';
import { createFileService, fileLimits } from './files/service.js';
import { createTitleService } from './chats/title-service.js';
import { createPlanService } from './chats/plan-service.js';
import { createRewindService } from './chats/rewind-service.js';
import { createGitChangesService } from './workspace/git-changes-service.js';
import type { WorkspaceManager } from './workspace/service.js';
import { createWorkspaceDeletion } from './workspace/delete-workspace.js';
import { createMcpServerService } from './mcp/service.js';

/** Domain services, built once per process; resolvers and the daemon call the same ones. */
export function createServices(deps: Deps, resources: { workspaces: WorkspaceManager }) {
  const usage = createUsageService(deps);
  const gitChanges = createGitChangesService(deps, resources.workspaces);
  const chats = createChatService(deps, {
    assertWithinUsageLimit: (userId) => usage.assertWithinUsageLimit(userId),
  });
  return {
    users: createUserService(deps),
    providers: createProviderService(deps),
    settings: createSettingsService(deps),
    deploymentSettings: createDeploymentSettingsService(deps),
    userSettings: createUserSettingsService(deps),
    usage,
    chats,
    /** Uploaded files (issue #10). */
    files: createFileService({ prisma: deps.prisma, limits: fileLimits(deps) }),
    plans: createPlanService(deps, {
      chats,
      assertWithinUsageLimit: (userId) => usage.assertWithinUsageLimit(userId),
    }),
    titles: createTitleService(deps),
    /** The files-changed view and checkpoints / undo (issue #11). */
    gitChanges,
    /** deleteWorkspace (issue #14). */
    workspaceDeletion: createWorkspaceDeletion(deps, resources.workspaces),
    rewind: createRewindService(deps, { workspaces: resources.workspaces, gitChanges }),
    /** Holds this replica's MCP connections: the app closes them at stop. */
    mcpServers: createMcpServerService(deps),
  };
}

export type Services = ReturnType<typeof createServices>;
