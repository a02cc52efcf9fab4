import { describe, expect, it } from 'vitest';

import { offeredInPlanMode, planModeViolation } from '../../../src/tools/plan-mode.js';

/** B20 as the seeds run it: which tools a PLAN turn gets, and the plan-file-only writers. */
describe('PLAN mode tool rules', () => {
  const context = { mode: 'PLAN' as const, chatId: 'c1' };
  const planFile = '.agentgraph/plans/c1.md';

  it('offers read-only, planning, exploration and plan-file tools; nothing that changes a workspace', () => {
    const tool = (name: string, readOnly = false, planTool = false) =>
      offeredInPlanMode({ name, readOnly, planTool });
    expect(tool('read_file', true)).toBe(true);
    expect(tool('propose_plan', true, true)).toBe(true);
    expect(tool('execute')).toBe(true);
    expect(tool('process_output')).toBe(true);
    expect(tool('write_file')).toBe(true);
    expect(tool('edit_files')).toBe(true);
    for (const name of ['create_workspace', 'start_workspace', 'spawn_agent', 'mcp__tool']) {
      expect(tool(name)).toBe(false);
    }
  });

  it('lets write_file and edit_files write only the plan file, by its relative path', () => {
    expect(planModeViolation('write_file', { path: planFile }, context)).toBeNull();
    expect(planModeViolation('write_file', { path: `./${planFile}` }, context)).toBeNull();
    expect(
      planModeViolation('edit_files', { files: [{ path: planFile, edits: [] }] }, context),
    ).toBeNull();
    for (const path of [
      'src/a.ts',
      `/ws/${planFile}`,
      `${planFile}/../x.md`,
      '.agentgraph/plans/c2.md',
    ]) {
      expect(planModeViolation('write_file', { path }, context)).toContain(planFile);
    }
    expect(
      planModeViolation(
        'edit_files',
        { files: [{ path: planFile }, { path: 'src/a.ts' }] },
        context,
      ),
    ).toContain(planFile);
    // DEFAULT mode and other tools are not this rule's business.
    expect(
      planModeViolation('write_file', { path: 'src/a.ts' }, { ...context, mode: 'DEFAULT' }),
    ).toBeNull();
    expect(planModeViolation('read_file', { path: 'src/a.ts' }, context)).toBeNull();
  });
});
