import { z } from 'zod';

import type { ChatEvents } from '../chats/events.js';
import { findUsableModelConfigId } from '../chats/model-configs.js';
import type { Deps } from '../deps.js';
import { readDeploymentSettings } from '../settings/deployment.js';
import { childPromptSchema, spawnChildChat } from './subagents.js';
import { defineTool, fail, ok } from './tool.js';

/** The only tools an explore subagent is offered (the registry filters on this). */
export const EXPLORE_TOOLS: ReadonlySet<string> = new Set([
  'read_file',
  'execute',
  'process_output',
]);

/** Put before the parent's task, so the child knows what it is for and what it cannot do. */
const EXPLORE_ROLE =
  'You are an explore agent: investigate and report, do not change anything. You can read ' +
  'files and run commands (ls, grep, git log, tests); do not run commands that modify files. ' +
  'End with a concise report of what you found, with file paths.';

const argsSchema = z.strictObject({
  prompt: childPromptSchema('What to find out: the question, where to look, what to report.'),
  title: z.string().trim().optional().describe('A short title for the child chat.'),
});

/**
 * spawn_explore_agent (issue #13): a read-only child chat in the same workspace, offered only
 * read_file, execute and process_output (no writes, no spawning). It runs on the deployment's
 * explore model when an admin set one, else the parent's. Offered in PLAN mode: exploring is
 * what planning needs.
 */
export function createSpawnExploreAgentTool(deps: Deps, events: ChatEvents) {
  return defineTool({
    name: 'spawn_explore_agent',
    description:
      'Spawn a read-only explore agent to investigate a question in the workspace in parallel ' +
      '(where something is implemented, how a module works, what the tests cover). It can read ' +
      'files and run commands but cannot write files or spawn agents. Returns {chat_id, title, ' +
      'status}; use wait_agent to collect its report and close_agent when you no longer need it.',
    schema: argsSchema,
    readOnly: false,
    planTool: true,
    rootOnly: true,
    async execute(args, context) {
      if (context.isSubagent) return fail('Delegated chats cannot spawn agents');
      const settings = await readDeploymentSettings(deps.prisma);
      // The override applies while it is usable; a disabled or deleted one falls back.
      const override = settings.exploreModelConfigId
        ? await findUsableModelConfigId(deps.sql, settings.exploreModelConfigId)
        : null;
      const child = await spawnChildChat(deps, events, context, {
        ...args,
        preamble: EXPLORE_ROLE,
        ...(override ? { modelConfigId: override } : {}),
        explore: true,
      });
      return ok({ chat_id: child.id, title: child.title, status: child.status, explore: true });
    },
  });
}
