import { z } from 'zod';

import { defineTool, ok } from './tool.js';

const MAX_PLAN_LENGTH = 32 * 1024;

const argsSchema = z.strictObject({
  title: z.string().trim().optional().describe('A short title for the plan.'),
  plan: z
    .string()
    .trim()
    .min(1, 'plan is required')
    .max(MAX_PLAN_LENGTH, 'The plan exceeds the 32 KiB size limit')
    .describe('The plan, in Markdown.'),
});

/** propose_plan (B20): the plan a PLAN-mode chat ends with, for the user to approve. */
export function createProposePlanTool() {
  return defineTool({
    name: 'propose_plan',
    description:
      'Propose your implementation plan to the user (Markdown: goal, steps, files to change, ' +
      'risks). Use it at the end of planning; the user approves or edits it, then switches the ' +
      'chat out of PLAN mode to carry it out.',
    schema: argsSchema,
    readOnly: true,
    planTool: true,
    async execute({ plan, title }) {
      return ok({ ok: true, kind: 'plan', title: title || 'Plan', plan });
    },
  });
}
