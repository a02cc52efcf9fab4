import type { ChatService } from '../chats/service.js';
import type { Deps } from '../deps.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { createCreateWorkspaceTool } from './create-workspace.js';
import { createCurrentTimeTool } from './current-time.js';
import { createEditFilesTool } from './edit-files.js';
import { createExecuteTool } from './execute.js';
import { createListTemplatesTool } from './list-templates.js';
import { createProcessOutputTool } from './process-output.js';
import { createProcessSignalTool } from './process-signal.js';
import { createReadFileTool } from './read-file.js';
import { createReadTemplateTool } from './read-template.js';
import { ToolRegistry } from './registry.js';
import { createStartWorkspaceTool } from './start-workspace.js';
import { createWriteFileTool } from './write-file.js';
import { createAskUserQuestionTool } from './ask-user-question.js';
import { createMessageAgentTool } from './message-agent.js';
import { createProposePlanTool } from './propose-plan.js';
import { createSpawnAgentTool } from './spawn-agent.js';
import { createWaitAgentTool } from './wait-agent.js';
import { createStopWorkspaceTool } from './stop-workspace.js';
import { createSpawnExploreAgentTool } from './spawn-explore-agent.js';
import { createCloseAgentTool } from './close-agent.js';
import { createAttachToWorkspaceTool } from './attach-to-workspace.js';

export { ToolRegistry } from './registry.js';
export type { Tool, ToolContext, ToolOutcome } from './tool.js';

/** What tools need beyond Deps: services that own resources of this process. */
export interface ToolServices {
  /** The workspaces and their agents (B17, B18). */
  workspaces: WorkspaceManager;
  /** Chat operations, for the subagent tools (B19). */
  chats: ChatService;
}

/** Every tool the daemon offers, each built from its dependencies. */
export function createToolRegistry(deps: Deps, services: ToolServices): ToolRegistry {
  const { workspaces, chats } = services;
  return new ToolRegistry([
    createCurrentTimeTool(),
    createReadFileTool(workspaces),
    createWriteFileTool(workspaces),
    createEditFilesTool(workspaces),
    createAttachToWorkspaceTool(deps, workspaces),
    createExecuteTool(workspaces),
    createProcessOutputTool(workspaces),
    createProcessSignalTool(workspaces),
    createListTemplatesTool(workspaces),
    createReadTemplateTool(workspaces),
    createCreateWorkspaceTool(workspaces),
    createStartWorkspaceTool(workspaces),
    createStopWorkspaceTool(workspaces),
    createSpawnAgentTool(deps, chats.events),
    createWaitAgentTool(deps),
    createSpawnExploreAgentTool(deps, chats.events),
    createCloseAgentTool(deps, chats),
    createMessageAgentTool(deps, chats),
    createAskUserQuestionTool(),
    createProposePlanTool(workspaces),
  ]);
}
