import { z } from 'zod';

import { planFilePath } from '../chats/plan-mode.js';
import { WorkspaceAgentError } from '../workspace/agent-client.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, fail, ok, type ToolOutcome } from './tool.js';
import { failureOf } from './workspace-support.js';

const MAX_PLAN_LENGTH = 32 * 1024;

const argsSchema = z.strictObject({
  title: z.string().optional().describe('A short title for the plan.'),
  plan: z
    .string()
    .max(MAX_PLAN_LENGTH, 'The plan exceeds the 32 KiB size limit')
    .optional()
    .describe(
      'The plan, in Markdown. When omitted, the plan file you wrote with write_file is proposed.',
    ),
});

/**
 * propose_plan (B20): the plan a PLAN-mode chat ends with. The plan is the chat's plan file in
 * the workspace (written here when `plan` is given, read otherwise); without a workspace it lives
 * on the chat only. A valid call ends the turn with Chat.plan set, for approvePlan.
 */
export function createProposePlanTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'propose_plan',
    description:
      'Propose your implementation plan to the user (Markdown: goal, steps, files to change, ' +
      'risks) at the end of planning. Pass it as `plan`, or write it to the plan file first and ' +
      'omit `plan`. Your turn ends here: the user approves it (the chat then leaves PLAN mode ' +
      'and you implement it) or answers with more planning.',
    schema: argsSchema,
    readOnly: true,
    planTool: true,
    async execute(args, context): Promise<ToolOutcome> {
      const title = args.title?.trim() || 'Plan';
      const workspace = await workspaces.workspaceForChat(context.chatId);
      let body = args.plan?.trim() ?? '';
      let filePath: string | null = null;
      if (workspace && workspace.status !== 'STOPPED') {
        filePath = planFilePath(context.chatId);
        try {
          const client = await workspaces.clientFor(workspace.id);
          if (body) {
            await client.writeFile(
              { path: filePath, content: `${body}\n` },
              { signal: context.signal },
            );
          } else {
            const file = await client.readFile({ path: filePath }, { signal: context.signal });
            if (file.truncated) return fail('The plan file exceeds the size the agent returns');
            body = file.content.trim();
          }
        } catch (error) {
          if (!(error instanceof WorkspaceAgentError && error.code === 'NOT_FOUND')) {
            return failureOf(error);
          }
        }
      }
      if (!body) {
        return fail(
          filePath
            ? `No plan: pass it as \`plan\` or write it to ${filePath} first`
            : 'plan is required (the chat has no workspace for a plan file)',
        );
      }
      if (body.length > MAX_PLAN_LENGTH) return fail('The plan exceeds the 32 KiB size limit');
      return {
        ...ok({ ok: true, kind: 'plan', title, path: filePath, awaiting_approval: true }),
        endsTurn: { kind: 'plan', plan: { title, body, path: filePath } },
      };
    },
  });
}
