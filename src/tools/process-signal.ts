import { z } from 'zod';

import type { ProcessSignal } from '../workspace/agent-client.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { defineTool, ok } from './tool.js';
import { withWorkspace } from './workspace-support.js';

const SIGNALS: Record<'terminate' | 'kill' | 'interrupt', ProcessSignal> = {
  terminate: 'SIGTERM',
  kill: 'SIGKILL',
  interrupt: 'SIGINT',
};

const argsSchema = z.strictObject({
  process_id: z
    .string()
    .min(1, 'process_id must not be empty')
    .describe('The process_id execute returned.'),
  signal: z
    .enum(['terminate', 'kill', 'interrupt'], {
      error: 'signal must be "terminate", "kill" or "interrupt"',
    })
    .describe('Which signal.'),
});

/** Signals a process started by execute, with everything it started. */
export function createProcessSignalTool(workspaces: WorkspaceManager) {
  return defineTool({
    name: 'process_signal',
    description:
      'Send a signal to a process started by execute, and to every process it started. Use ' +
      '"terminate" (SIGTERM) to ask it to stop, "kill" (SIGKILL) when it does not, "interrupt" ' +
      '(SIGINT) like Ctrl-C. Then use process_output to see its final output.',
    schema: argsSchema,
    readOnly: false,
    async execute(args, context) {
      const { process_id: id, signal } = args;
      return withWorkspace(
        workspaces,
        context,
        async (client) => {
          const sent = await client.signalProcess(id, SIGNALS[signal], { signal: context.signal });
          return ok({
            process_id: id,
            signal,
            delivered: sent.delivered,
            message: sent.delivered
              ? `Signal "${signal}" sent to process ${id}.`
              : `Process ${id} had already exited; nothing received the signal.`,
          });
        },
        { commands: true },
      );
    },
  });
}
