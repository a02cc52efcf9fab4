import { parseArgs } from 'node:util';

import { errnoCode } from './errors.js';
import { DEFAULT_AGENT_HOST, startWorkspaceAgent } from './server.js';
import { runIfEntryPoint } from '../../entry-point.js';

/** Environment variable read for the token; preferred to --token, which `ps` shows to everyone. */
export const AGENT_TOKEN_ENV = 'AGENTGRAPH_AGENT_TOKEN';
/** Exit status for a bad command line, as most Unix tools use. */
const EXIT_USAGE = 2;

const USAGE = `Usage: agentgraph-agent --root DIR [--port N] [--host HOST] [--max-processes N] [--token TOKEN]

Serves the workspace directory DIR over HTTP (API under /api/v0).
The bearer token comes from --token or, preferably, the ${AGENT_TOKEN_ENV} environment variable;
the agent refuses to start without one.
  --port N            port to listen on (default 0: a free port, printed at start)
  --host HOST         address to bind (default ${DEFAULT_AGENT_HOST})
  --max-processes N   running processes allowed at once (default 16)`;

class UsageError extends Error {}

function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new UsageError(`--${name} must be a non-negative integer`);
  return parsed;
}

/**
 * Runs the agent until SIGINT or SIGTERM. `argv` is without the node and script paths. Resolves
 * with the exit status once the agent has stopped, or at once for a usage error.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let agent: Awaited<ReturnType<typeof startWorkspaceAgent>>;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'max-processes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.root) throw new UsageError('--root is required');
    const token = values.token ?? env[AGENT_TOKEN_ENV];
    if (!token) throw new UsageError(`a token is required: set ${AGENT_TOKEN_ENV} or pass --token`);
    agent = await startWorkspaceAgent({
      root: values.root,
      token,
      port: integerOption('port', values.port),
      host: values.host,
      maxProcesses: integerOption('max-processes', values['max-processes']),
    });
    console.log(`agentgraph-agent listening on ${agent.url} (root ${values.root})`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`agentgraph-agent: ${message}`);
    if (error instanceof UsageError || errnoCode(error)?.startsWith('ERR_PARSE_ARGS')) {
      console.error(USAGE);
      return EXIT_USAGE;
    }
    return 1;
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await agent.close();
  return 0;
}

runIfEntryPoint(import.meta.url, main);
