import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect } from 'vitest';

import {
  startWorkspaceAgent,
  type WorkspaceAgentOptions,
} from '../../../src/workspace/agent/index.js';
import {
  WorkspaceAgentClient,
  WorkspaceAgentError,
  type ProcessOutputResponse,
} from '../../../src/workspace/agent-client.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';
/** Upper bound for anything a test waits on; reaching it fails the test rather than hanging it. */
export const WAIT_LIMIT_MS = 20_000;
/** waitMs per poll while waiting for output to appear (the agent returns early on exit). */
const POLL_WAIT_MS = 50;
/** Between checks of a pid that is not ours to wait on (nothing signals its death to us). */
const PID_POLL_INTERVAL_MS = 10;

export interface AgentFixture {
  /** Temporary directory holding the workspace root (and room outside it for escape tests). */
  outer: string;
  /** The workspace root, as a real path. */
  root: string;
  url: string;
  client: WorkspaceAgentClient;
  /** Closes the agent and removes the temporary directories. */
  close(): Promise<void>;
}

/** An agent on port 0 serving a fresh temporary directory, with a client for it. */
export async function startAgentFixture(
  options: Partial<Omit<WorkspaceAgentOptions, 'root' | 'token'>> = {},
): Promise<AgentFixture> {
  const outer = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-agent-')));
  const root = path.join(outer, 'workspace');
  await fs.mkdir(root);
  const agent = await startWorkspaceAgent({ ...options, root, token: TEST_TOKEN });
  return {
    outer,
    root,
    url: agent.url,
    client: new WorkspaceAgentClient({ url: agent.url, token: TEST_TOKEN }),
    close: async () => {
      await agent.close();
      await fs.rm(outer, { recursive: true, force: true });
    },
  };
}

/** Runs `call`, which must fail with a WorkspaceAgentError; returns that error. */
export async function expectAgentError(
  call: Promise<unknown>,
  code: string,
  status: number,
): Promise<WorkspaceAgentError> {
  const error: unknown = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WorkspaceAgentError);
  const agentError = error as WorkspaceAgentError;
  expect({ code: agentError.code, status: agentError.status }).toEqual({ code, status });
  return agentError;
}

/** Polls the output endpoint (each poll returns early when the process exits) until `accept`. */
export async function waitForOutput(
  client: WorkspaceAgentClient,
  id: string,
  accept: (output: ProcessOutputResponse) => boolean,
): Promise<ProcessOutputResponse> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const output = await client.processOutput(id, { waitMs: POLL_WAIT_MS });
    if (accept(output)) return output;
    if (!output.running)
      throw new Error(`process exited without the expected output: ${output.output}`);
    if (Date.now() > deadline) throw new Error(`gave up waiting; output so far: ${output.output}`);
  }
}

/** Waits (on the agent, not on a timer here) for the process to exit. */
export async function waitForExit(
  client: WorkspaceAgentClient,
  id: string,
): Promise<ProcessOutputResponse> {
  const output = await client.processOutput(id, { waitMs: WAIT_LIMIT_MS });
  expect(output.running).toBe(false);
  return output;
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: in a container without an init that
 * reaps orphans, a killed grandchild lingers as one.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat is "pid (comm) state ..."; comm may contain spaces, so split after ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Polls `isAlive` until the process is gone; false if it is still there at the limit. */
export async function waitUntilDead(pid: number): Promise<boolean> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, PID_POLL_INTERVAL_MS));
  }
  return true;
}

/**
 * Host pids of live processes whose argv is exactly `argv`. A sandboxed command sees its own pid
 * namespace, so `echo $!` inside does not name a host process; tests find them by a unique argv.
 */
export function hostPidsOf(argv: string[]): number[] {
  const wanted = argv.join('\0');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0$/, '');
      if (cmdline === wanted && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

let uniqueSeconds = 900_000 + Math.floor(Math.random() * 90_000);
/** A `sleep` no other test runs, so its host pid can be found with hostPidsOf. */
export function uniqueSleep(): { command: string; argv: string[] } {
  const seconds = String(uniqueSeconds++);
  return { command: `sleep ${seconds}`, argv: ['sleep', seconds] };
}

/** Waits until exactly one process runs `argv` (a sandboxed one starts asynchronously). */
export async function waitForHostPid(argv: string[]): Promise<number> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const [pid, ...more] = hostPidsOf(argv);
    if (pid !== undefined && more.length === 0) return pid;
    if (Date.now() > deadline) throw new Error(`no single process runs ${argv.join(' ')}`);
    await new Promise((resolve) => setTimeout(resolve, PID_POLL_INTERVAL_MS));
  }
}
