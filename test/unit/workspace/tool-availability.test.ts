import { describe, expect, it } from 'vitest';

import type { Deps } from '../../../src/deps.js';
import { createToolRegistry } from '../../../src/tools/index.js';
import type { WorkspaceManager } from '../../../src/workspace/service.js';

/** A manager no test here may reach: only the registry's filtering is under test. */
const unusedManager = new Proxy({} as WorkspaceManager, {
  get(_target, property) {
    throw new Error(`WorkspaceManager.${String(property)} must not be called`);
  },
});
const registry = createToolRegistry({} as Deps, { workspaces: unusedManager });
const names = (mode: 'DEFAULT' | 'PLAN', isSubagent: boolean) =>
  registry
    .availableFor({ mode, isSubagent })
    .map((tool) => tool.name)
    .sort();

describe('which chats get the workspace tools (B17, B19, B20)', () => {
  it('gives a root chat in DEFAULT mode every tool', () => {
    expect(names('DEFAULT', false)).toEqual([
      'create_workspace',
      'current_time',
      'edit_files',
      'execute',
      'list_templates',
      'process_output',
      'process_signal',
      'read_file',
      'read_template',
      'start_workspace',
      'write_file',
    ]);
  });

  it('gives PLAN mode only the read-only ones', () => {
    expect(names('PLAN', false)).toEqual([
      'current_time',
      'list_templates',
      'process_output',
      'read_file',
      'read_template',
    ]);
  });

  it('gives subagents the file and process tools but no workspace creation or templates', () => {
    expect(names('DEFAULT', true)).toEqual([
      'current_time',
      'edit_files',
      'execute',
      'process_output',
      'process_signal',
      'read_file',
      'write_file',
    ]);
    expect(names('PLAN', true)).toEqual(['current_time', 'process_output', 'read_file']);
  });

  it('describes every tool with a closed JSON schema object', () => {
    for (const spec of registry.specsFor({ mode: 'DEFAULT', isSubagent: false })) {
      expect(spec.description.length, spec.name).toBeGreaterThan(40);
      expect(spec.parameters).toMatchObject({ type: 'object', additionalProperties: false });
    }
  });
});
