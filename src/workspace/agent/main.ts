import { parseArgs } from 'node:util';

import { errnoCode } from './errors.js';
import { DEFAULT_LIMITS, DEFAULT_SANDBOX_SETTINGS, type SandboxSettings } from './sandbox.js';
import { DEFAULT_AGENT_HOST, startWorkspaceAgent } from './server.js';
import { runIfEntryPoint } from '../../entry-point.js';

/** Environment variable read for the token; preferred to --token, which `ps` shows to everyone. */
export const AGENT_TOKEN_ENV = 'AGENTGRAPH_AGENT_TOKEN';
/** With --exit-with-stdin, how often the agent checks that its parent is still the server. */
const ORPHAN_CHECK_INTERVAL_MS = 500;
/** Exit status for a bad command line, as most Unix tools use. */
const EXIT_USAGE = 2;

const MIB = 1024 * 1024;

const USAGE = `Usage: agentgraph-agent --root DIR [--port N] [--host HOST] [--max-processes N] [--token TOKEN]
                        [--sandbox auto|bwrap|none] [--network none|outbound|host] [--limit-… N]

Serves the workspace directory DIR over HTTP (API under /api/v0).
The bearer token comes from --token or, preferably, the ${AGENT_TOKEN_ENV} environment variable;
the agent refuses to start without one.
  --port N            port to listen on (default 0: a free port, printed at start)
  --host HOST         address to bind (default ${DEFAULT_AGENT_HOST})
  --max-processes N   running processes allowed at once (default 16)
  --state-dir DIR     the agent's own files (workspace checkpoints), outside DIR (default
                      <parent of DIR>/.agentgraph-state/<name of DIR>)
  --sandbox MODE      run commands in bubblewrap: auto (default: when it works), bwrap (required),
                      none (never)
  --network POLICY    network of sandboxed commands: none (default), outbound, host
  --limit-processes N, --limit-memory-mb N, --limit-cpu-seconds N, --limit-file-size-mb N
                      per-process limits of sandboxed commands, 0 for none (defaults
                      ${DEFAULT_LIMITS.processes}, ${DEFAULT_LIMITS.memoryBytes / MIB}, ${DEFAULT_LIMITS.cpuSeconds}, ${DEFAULT_LIMITS.fileSizeBytes / MIB})
  --exit-with-stdin   stop when standard input closes (how a server ties an agent it started to
                      its own life, kill -9 included)`;

class UsageError extends Error {}

function choice<T extends string>(name: string, value: string | undefined, allowed: readonly T[]) {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

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
  let exitWithStdin = false;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'max-processes': { type: 'string' },
        sandbox: { type: 'string' },
        network: { type: 'string' },
        'limit-processes': { type: 'string' },
        'limit-memory-mb': { type: 'string' },
        'limit-cpu-seconds': { type: 'string' },
        'limit-file-size-mb': { type: 'string' },
        'state-dir': { type: 'string' },
        'exit-with-stdin': { type: 'boolean' },
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
    const defaults = DEFAULT_SANDBOX_SETTINGS;
    const mib = (name: string, value: string | undefined) => {
      const parsed = integerOption(name, value);
      return parsed === undefined ? undefined : parsed * MIB;
    };
    const sandbox: SandboxSettings = {
      mode: choice('sandbox', values.sandbox, ['auto', 'bwrap', 'none'] as const) ?? defaults.mode,
      network:
        choice('network', values.network, ['none', 'outbound', 'host'] as const) ??
        defaults.network,
      limits: {
        processes:
          integerOption('limit-processes', values['limit-processes']) ?? DEFAULT_LIMITS.processes,
        memoryBytes:
          mib('limit-memory-mb', values['limit-memory-mb']) ?? DEFAULT_LIMITS.memoryBytes,
        cpuSeconds:
          integerOption('limit-cpu-seconds', values['limit-cpu-seconds']) ??
          DEFAULT_LIMITS.cpuSeconds,
        fileSizeBytes:
          mib('limit-file-size-mb', values['limit-file-size-mb']) ?? DEFAULT_LIMITS.fileSizeBytes,
      },
    };
    agent = await startWorkspaceAgent({
      root: values.root,
      token,
      port: integerOption('port', values.port),
      host: values.host,
      maxProcesses: integerOption('max-processes', values['max-processes']),
      sandbox,
      stateDir: values['state-dir'],
    });
    const isolation =
      agent.sandbox.kind === 'bwrap'
        ? `sandbox bwrap, network ${agent.sandbox.policy.network}`
        : `UNSANDBOXED: ${agent.sandbox.reason}`;
    console.log(`agentgraph-agent listening on ${agent.url} (root ${values.root}; ${isolation})`);
    exitWithStdin = values['exit-with-stdin'] === true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`agentgraph-agent: ${message}`);
    if (error instanceof UsageError || errnoCode(error)?.startsWith('ERR_PARSE_ARGS')) {
      console.error(USAGE);
      return EXIT_USAGE;
    }
    return 1;
  }

  let orphanCheck: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdin.off('end', stop);
      process.stdin.off('error', stop);
      process.stdin.off('close', stop);
      clearInterval(orphanCheck);
      if (exitWithStdin) process.stdin.destroy(); // an open pipe would keep the process alive
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (exitWithStdin) {
      // The server holds the other end; when it dies (kill -9 included) the pipe closes.
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.on('error', stop);
      process.stdin.resume();
      // Belt and braces: being re-parented (to init or a subreaper) also means the server died.
      const parent = process.ppid;
      orphanCheck = setInterval(() => {
        if (process.ppid !== parent) stop();
      }, ORPHAN_CHECK_INTERVAL_MS);
      orphanCheck.unref();
    }
  });
  await agent.close();
  return 0;
}

runIfEntryPoint(import.meta.url, main);
