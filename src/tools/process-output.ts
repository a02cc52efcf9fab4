import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { MAX_AGENT_WAIT_SECONDS, processResult, withWorkspace } from './workspace-support.js';

const argsSchema = z.strictObject({
  process_id: z
    .string()
    .min(1, 'process_id must not be empty')
    .describe('The process_id execute returned.'),
  wait_seconds: z
    .number()
    .min(0)
    .max(MAX_AGENT_WAIT_SECONDS)
    .optional()
    .describe(
      'Wait up to this long for the process to finish before answering. Default 0: answer at ' +
        'once with the output so far.',
    ),
});

/** Output and state of a process started by execute. */
export function createProcessOutputTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'process_output',
    description:
      'Get the output and state of a process started by execute (one that ran in the ' +
      'background or outlived its timeout). Returns {exit_code, output, wall_duration_ms, ' +
      'truncated}, plus running: true while it still runs. Use wait_seconds to wait for it to ' +
      'finish instead of calling this repeatedly.',
    schema: argsSchema,
    readOnly: true,
    async execute(args, context) {
      const { process_id: id, wait_seconds: waitSeconds = 0 } = args;
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
  });
}
