import { describe, expect, it } from 'vitest';

import type { ChatService } from '../../../src/chats/service.js';
import type { Deps } from '../../../src/deps.js';
import { createToolRegistry } from '../../../src/tools/index.js';
import type { WorkspaceManager } from '../../../src/workspace/service.js';

/** A manager no test here may reach: only the registry's filtering is under test. */
const unused = <T extends object>(name: string) =>
  new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`${name}.${String(property)} must not be called`);
    },
  });
const registry = createToolRegistry({} as Deps, {
  workspaces: unused<WorkspaceManager>('WorkspaceManager'),
  chats: { events: unused('ChatEvents') } as unknown as ChatService,
});
const names = (mode: 'DEFAULT' | 'PLAN', isSubagent: boolean) =>
  registry
    .availableFor({ mode, isSubagent })
    .map((tool) => tool.name)
    .sort();

describe('which chats get which tools (B17, B19, B20)', () => {
  it('gives a root chat in DEFAULT mode every tool', () => {
    expect(names('DEFAULT', false)).toEqual([
      'ask_user_question',
      'attach_to_workspace',
      'close_agent',
      'create_workspace',
      'current_time',
      'edit_files',
      'execute',
      'list_templates',
      'message_agent',
      'process_output',
      'process_signal',
      'propose_plan',
      'read_file',
      'read_template',
      'spawn_agent',
      'spawn_explore_agent',
      'start_workspace',
      'stop_workspace',
      'wait_agent',
      'write_file',
    ]);
  });

  it('gives PLAN mode the read-only ones, the planning tools, execute and the plan file writers', () => {
    // B20 as the seeds run it (issue #11): write_file / edit_files are refused at execution for
    // any path but the plan file; nothing that changes a workspace or spawns a writer is offered.
    expect(names('PLAN', false)).toEqual([
      'ask_user_question',
      'close_agent',
      'current_time',
      'edit_files',
      'execute',
      'list_templates',
      'process_output',
      'propose_plan',
      'read_file',
      'read_template',
      'spawn_explore_agent',
      'wait_agent',
      'write_file',
    ]);
  });

  it('gives explore subagents only read_file, execute and process_output (issue #13)', () => {
    for (const mode of ['DEFAULT', 'PLAN'] as const) {
      const offered = registry
        .availableFor({ mode, isSubagent: true, explore: true })
        .map((tool) => tool.name)
        .sort();
      expect(offered).toEqual(['execute', 'process_output', 'read_file']);
    }
  });

  it('gives subagents no agent spawning, workspace creation or templates', () => {
    expect(names('DEFAULT', true)).toEqual([
      'ask_user_question',
      'attach_to_workspace',
      'current_time',
      'edit_files',
      'execute',
      'process_output',
      'process_signal',
      'propose_plan',
      'read_file',
      'write_file',
    ]);
    expect(names('PLAN', true)).toEqual([
      'ask_user_question',
      'current_time',
      'edit_files',
      'execute',
      'process_output',
      'propose_plan',
      'read_file',
      'write_file',
    ]);
  });

  it('describes every tool with a closed JSON schema object', () => {
    for (const spec of registry.specsFor({ mode: 'DEFAULT', isSubagent: false })) {
      expect(spec.description.length, spec.name).toBeGreaterThan(40);
      expect(spec.parameters).toMatchObject({ type: 'object', additionalProperties: false });
    }
  });
});
