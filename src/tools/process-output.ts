import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { ok, type Tool } from './tool.js';
import {
  MAX_AGENT_WAIT_SECONDS,
  parseArgs,
  processResult,
  withWorkspace,
} from './workspace-support.js';

const argsSchema = z.strictObject({
  process_id: z.string().min(1, 'process_id must not be empty'),
  wait_seconds: z.number().min(0).max(MAX_AGENT_WAIT_SECONDS).optional(),
});

/** Output and state of a process started by execute. */
export function createProcessOutputTool(workspaces: WorkspaceManager): Tool {
  return {
    name: 'process_output',
    description:
      'Get the output and state of a process started by execute (one that ran in the ' +
      'background or outlived its timeout). Returns {exit_code, output, wall_duration_ms, ' +
      'truncated}, plus running: true while it still runs. Use wait_seconds to wait for it to ' +
      'finish instead of calling this repeatedly.',
    parameters: {
      type: 'object',
      properties: {
        process_id: { type: 'string', description: 'The process_id execute returned.' },
        wait_seconds: {
          type: 'number',
          minimum: 0,
          maximum: MAX_AGENT_WAIT_SECONDS,
          description:
            'Wait up to this long for the process to finish before answering. Default 0: ' +
            'answer at once with the output so far.',
        },
      },
      required: ['process_id'],
      additionalProperties: false,
    },
    readOnly: true,
    async execute(args, context) {
      const parsed = parseArgs(argsSchema, args);
      if (parsed.error) return parsed.error;
      const { process_id: id, wait_seconds: waitSeconds = 0 } = parsed.data;
      return withWorkspace(
        workspaces,
        context,
        async (client) => {
          const output = await client.processOutput(
            id,
            { waitMs: Math.round(waitSeconds * 1000) },
            { signal: context.signal },
          );
          return ok({
            ...processResult(output, output.running ? 'The process is still running.' : undefined),
            process_id: id,
            running: output.running,
          });
        },
        { commands: true },
      );
    },
  };
}
