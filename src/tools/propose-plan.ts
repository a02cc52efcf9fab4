import { fail, ok, type Tool } from './tool.js';

const MAX_PLAN_LENGTH = 32 * 1024;

/** propose_plan (B20): the plan a PLAN-mode chat ends with, for the user to approve. */
export function createProposePlanTool(): Tool {
  return {
    name: 'propose_plan',
    description:
      'Propose your implementation plan to the user (Markdown: goal, steps, files to change, ' +
      'risks). Use it at the end of planning; the user approves or edits it, then switches the ' +
      'chat out of PLAN mode to carry it out.',
    parameters: {
      type: 'object',
      properties: {
        title: { type: 'string', description: 'A short title for the plan.' },
        plan: { type: 'string', description: 'The plan, in Markdown.' },
      },
      required: ['plan'],
      additionalProperties: false,
    },
    readOnly: true,
    planTool: true,
    async execute(args) {
      const plan = typeof args['plan'] === 'string' ? args['plan'].trim() : '';
      if (!plan) return fail('plan is required');
      if (plan.length > MAX_PLAN_LENGTH) return fail('The plan exceeds the 32 KiB size limit');
      const title =
        typeof args['title'] === 'string' && args['title'].trim() ? args['title'].trim() : 'Plan';
      return ok({ ok: true, kind: 'plan', title, plan });
    },
  };
}
