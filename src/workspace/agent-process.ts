import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { Logger } from '../logger.js';
import type { ResolvedSandbox, SandboxSettings } from './agent/sandbox.js';

/**
 * Starts an embedded workspace agent as its own child process, never inside the server: the
 * agent (and so every command it runs) must not share the server's memory, environment or
 * /proc/<pid>/environ. It gets a clean environment (a few basics and its token), and it stops
 * when its stdin closes, which the kernel does when the server dies, kill -9 included; its
 * sandboxed commands die with it (bwrap --die-with-parent).
 */

/** Variables the agent process inherits from the server; nothing else (no secrets, no URLs). */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
/** Environment variable the agent reads its token from (agent/main.ts AGENT_TOKEN_ENV). */
const AGENT_TOKEN_ENV = 'AGENTGRAPH_AGENT_TOKEN';
/** The line agent/main.ts prints once it listens. */
const LISTENING = /^agentgraph-agent listening on (http:\/\/\S+)/;
/** How long a starting agent may take to listen before it is given up (and killed). */
const START_TIMEOUT_MS = 30_000;
/** After SIGTERM, how long close() waits before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Lines of the agent's stderr kept for the error of a failed start. */
const STDERR_LINES_KEPT = 20;

export interface AgentProcessOptions {
  root: string;
  token: string;
  /** Passed on as the agent's --sandbox/--network/--limit-* flags. */
  sandbox: SandboxSettings;
  logger: Logger;
}

export interface AgentProcess {
  url: string;
  pid: number;
  /** False once the process has exited (it crashed, or was closed). */
  isRunning(): boolean;
  /** SIGTERM (the agent kills its commands and exits), SIGKILL if it does not. Idempotent. */
  close(): Promise<void>;
}

/**
 * The agent's entry module next to this one: main.ts when the server runs from source (under
 * tsx, which the child then needs too), main.js when it runs compiled from dist/.
 */
export function agentEntry(): { entry: string; execArgv: string[] } {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const entry = fileURLToPath(new URL(`./agent/main${extension}`, import.meta.url));
  if (extension !== '.ts') return { entry, execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { entry, execArgv: ['--import', tsx] };
}

function sandboxArgs(settings: SandboxSettings): string[] {
  const mib = (bytes: number) => String(Math.floor(bytes / (1024 * 1024)));
  return [
    '--sandbox',
    settings.mode,
    '--network',
    settings.network,
    '--limit-processes',
    String(settings.limits.processes),
    '--limit-memory-mb',
    mib(settings.limits.memoryBytes),
    '--limit-cpu-seconds',
    String(settings.limits.cpuSeconds),
    '--limit-file-size-mb',
    mib(settings.limits.fileSizeBytes),
  ];
}

/** The sandbox settings that make a child agent do what the server decided at start. */
export function settingsFor(resolved: ResolvedSandbox, settings: SandboxSettings): SandboxSettings {
  return { ...settings, mode: resolved.kind === 'bwrap' ? 'bwrap' : 'none' };
}

/** Starts the agent and resolves once it listens; rejects (ENOENT for a missing root) otherwise. */
export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  // Checked here so a missing directory is the same ENOENT error as with an in-process agent.
  await fs.stat(options.root);
  const env: Record<string, string> = { [AGENT_TOKEN_ENV]: options.token };
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const { entry, execArgv } = agentEntry();
  const child = spawn(
    process.execPath,
    [
      ...execArgv,
      entry,
      '--root',
      options.root,
      '--port',
      '0',
      '--exit-with-stdin',
      ...sandboxArgs(options.sandbox),
    ],
    { env, cwd: options.root, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
    options.logger.warn('workspace agent stderr', { pid: child.pid, line });
  });
  // Writing to the agent's stdin never happens; an EPIPE after it exits is not an error here.
  child.stdin.on('error', () => undefined);

  let timer: NodeJS.Timeout | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = LISTENING.exec(line);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('error', reject);
      void exited.then(({ code, signal }) =>
        reject(
          new Error(
            `workspace agent exited (${code ?? signal}) before listening: ${stderr.join('\n')}`,
          ),
        ),
      );
      timer = setTimeout(
        () => reject(new Error(`workspace agent did not listen within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
    });
    let closing: Promise<void> | undefined;
    return {
      url,
      pid: child.pid!,
      isRunning: () => child.exitCode === null && child.signalCode === null,
      close: () =>
        (closing ??= (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(kill);
        })()),
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
