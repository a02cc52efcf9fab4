import { z } from 'zod';

import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { MAX_AGENT_WAIT_SECONDS, processResult, withWorkspace } from './workspace-support.js';

/** B17: a foreground command is waited for this long before it is reported as still running. */
export const DEFAULT_EXECUTE_TIMEOUT_SECONDS = 10;
/** Commands that dump files, where read_file is the better tool (as chatd nudges the model). */
const FILE_DUMP = /^\s*(cat\s+|(rg|grep)\s+.*--include-all|(rg|grep)\s+-l\s+)/;
const FILE_DUMP_NOTE =
  'Consider using read_file instead of dumping file contents with shell commands.';

const argsSchema = z.strictObject({
  command: z
    .string()
    .min(1, 'command must not be empty')
    .describe('The shell command line to run.'),
  workdir: z
    .string()
    .min(1)
    .optional()
    .describe('Directory to run in, relative to the workspace root. Default: the root.'),
  timeout_seconds: z
    .number()
    .positive()
    .max(MAX_AGENT_WAIT_SECONDS)
    .optional()
    .describe(
      `How long to wait for the command to finish before returning with it still running. ` +
        `Default ${DEFAULT_EXECUTE_TIMEOUT_SECONDS}. The command is not killed when this passes.`,
    ),
  run_in_background: z
    .boolean()
    .optional()
    .describe(
      'Start the command and return its process_id at once, without waiting. Default false.',
    ),
});

/** Runs a shell command in the chat's workspace (B17). */
export function createExecuteTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'execute',
    description:
      "Execute a shell command (/bin/sh -c) in the chat's workspace and return " +
      '{exit_code, output, wall_duration_ms, truncated}. output is stdout and stderr combined; ' +
      'for long output only the first and last 16 KiB are kept (truncated is then true) and ' +
      'lines are cut at 2048 bytes, so filter or page long output (head, tail, grep). The ' +
      'environment is non-interactive: nothing can prompt for input (no TTY; PAGER=cat, ' +
      'GIT_TERMINAL_PROMPT=0), so pass flags like --yes where a tool would ask. A non-zero ' +
      'exit_code is reported, not treated as a tool error. If the command has not finished within ' +
      'timeout_seconds it keeps running and the result says running: true with a process_id; ' +
      'then use process_output to collect its output or process_signal to stop it. Use ' +
      'run_in_background for servers and watchers. Use read_file, write_file and edit_files ' +
      'for files rather than cat, echo or sed.',
    schema: argsSchema,
    readOnly: false,
    async execute(args, context) {
      const { command, workdir, run_in_background: background } = args;
      return withWorkspace(
        workspaces,
        context,
        async (client) => {
          if (background) {
            const started = await client.startProcess(
              { command, workdir, background: true },
              { signal: context.signal },
            );
            return ok({
              exit_code: null,
              output: '',
              wall_duration_ms: 0,
              truncated: false,
              running: true,
              process_id: started.id,
              note:
                `Started in the background. Call process_output with process_id ${started.id} ` +
                'to read its output, or process_signal to stop it.',
            });
          }
          const timeoutSeconds = args.timeout_seconds ?? DEFAULT_EXECUTE_TIMEOUT_SECONDS;
          const finished = await client.startProcess(
            { command, workdir, timeoutMs: Math.round(timeoutSeconds * 1000) },
            { signal: context.signal },
          );
          if (!('output' in finished)) throw new Error('Foreground process answered as background');
          const note = !finished.running && FILE_DUMP.test(command) ? FILE_DUMP_NOTE : undefined;
          return ok(processResult(finished, note));
        },
        { commands: true },
      );
    },
  });
}
