import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Writable } from 'node:stream';

import { buildProcessEnv } from './environment.js';
import { AgentRequestError, badRequest, errnoCode, fsRequestError, notFound } from './errors.js';
import { HeadTailBuffer } from './head-tail-buffer.js';
import type { Workspace } from './paths.js';
import { connectOutbound, type OutboundNetwork } from './outbound-network.js';
import {
  BLOCK_FD,
  BWRAP,
  BWRAP_STATUS_FD,
  STATUS_FD,
  bwrapArgs,
  decodeShellStatus,
  type ResolvedSandbox,
} from './sandbox.js';
import type {
  ProcessInfo,
  ProcessOutputResponse,
  ProcessSignal,
  SignalProcessResponse,
  StartProcessRequest,
  StartProcessResponse,
} from './protocol.js';

/** How long a foreground start waits for the exit when the request does not say. */
export const DEFAULT_FOREGROUND_TIMEOUT_MS = 10_000;
/** Longest a single request may wait on a process (foreground timeout, output waitMs). */
export const MAX_WAIT_MS = 5 * 60_000;
export const DEFAULT_MAX_PROCESSES = 16;
/** Finished processes kept (with their output) for listing and polling; older ones are forgotten. */
export const PROCESS_HISTORY_LIMIT = 100;
/**
 * After the shell exits, how long to wait for its pipes to close. Output still in the pipe arrives
 * within this, but a backgrounded grandchild (`server &`) keeps the pipes open indefinitely and
 * must not keep the command "running".
 */
const STDIO_DRAIN_GRACE_MS = 100;
/** Between SIGTERM and SIGKILL when killAfterMs expires. */
const KILL_GRACE_MS = 2_000;
/** How long close() waits for killed processes to be reaped. */
const CLOSE_WAIT_MS = 5_000;
const SHELL = '/bin/sh';

export interface ProcessManagerOptions {
  workspace: Workspace;
  /** Running processes allowed at once; more answer TOO_MANY_PROCESSES. */
  maxProcesses: number;
  /** Allow-listed extra environment (see environment.ts). */
  agentEnv: Readonly<Record<string, string>>;
  /** PATH handed to processes. */
  path: string | undefined;
  /** How commands run: inside bwrap, or directly as children of the agent. */
  sandbox: ResolvedSandbox;
}

interface ManagedProcess {
  id: string;
  command: string;
  workdir: string;
  /**
   * The process group signals go to: the shell's own pid when unsandboxed (started as a group
   * leader), the sandbox init's host pid when sandboxed (bwrap's --new-session makes it the
   * leader). Undefined until known, and for a process that never started.
   */
  pid: number | undefined;
  /** Resolves once `pid` is known or the process has ended (whichever is first). */
  ready: Promise<void>;
  startedAt: number;
  endedAt: number | undefined;
  running: boolean;
  exitCode: number | null;
  signal: string | null;
  output: HeadTailBuffer;
  /** Resolves when the process has exited and its output is collected. */
  finished: Promise<void>;
  timers: NodeJS.Timeout[];
}

/** Resolves after `ms` or when `done` settles, whichever is first, without leaving a timer. */
async function waitAtMost(done: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Sends `signal` to the whole group led by `pgid`; false when no member is left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Runs shell commands in the workspace, each in its own process group so a signal reaches
 * everything the command started (`sleep 1000 &` included), and keeps their output in bounded
 * buffers for polling.
 */
export class ProcessManager {
  private readonly processes = new Map<string, ManagedProcess>();
  /**
   * Groups that may still have members, finished leaders included (their backgrounded children
   * live on). close() kills them all; ones found empty are dropped so a recycled pid is never hit.
   */
  private readonly liveGroups = new Set<number>();
  private closed = false;
  /** bwrap processes still running (each lives as long as its sandbox has a process). */
  private readonly monitors = new Set<ChildProcess>();

  constructor(private readonly options: ProcessManagerOptions) {}

  /**
   * Starts a process. A foreground start whose `signal` aborts while it waits (its HTTP client went
   * away: the turn was interrupted) kills the process group: nobody would see its result. One that
   * outlived `timeoutMs` already answered and is the caller's to poll or signal.
   */
  async start(request: StartProcessRequest, signal?: AbortSignal): Promise<StartProcessResponse> {
    if (this.closed) throw new AgentRequestError('CONFLICT', 'The agent is shutting down');
    const workdirShown = request.workdir ?? '.';
    const cwd = await this.options.workspace.resolve(workdirShown);
    const stats = await fs.stat(cwd).catch((error: unknown) => fsRequestError(error, workdirShown));
    if (!stats.isDirectory()) throw badRequest(`workdir is not a directory: ${workdirShown}`);
    // Checked after the awaits so concurrent starts cannot all pass it at once.
    const running = [...this.processes.values()].filter((p) => p.running).length;
    if (running >= this.options.maxProcesses) {
      throw new AgentRequestError(
        'TOO_MANY_PROCESSES',
        `${running} processes are running (limit ${this.options.maxProcesses}); wait for one or signal it`,
      );
    }

    this.pruneGroups();
    const managed = this.spawn(request, cwd);
    await managed.ready;
    if (request.background) return { id: managed.id, running: true };

    const stop = () => {
      if (managed.running) this.signal(managed.id, 'SIGKILL');
    };
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      await waitAtMost(managed.finished, request.timeoutMs ?? DEFAULT_FOREGROUND_TIMEOUT_MS);
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    const result = this.outputOf(managed);
    if (!result.running) return { ...result, running: false };
    return {
      ...result,
      running: true,
      note:
        `Still running after ${result.wallDurationMs} ms; it was not stopped. Poll its output ` +
        `(waitMs to wait for the exit) or send it a signal using id ${managed.id}.`,
    };
  }

  list(): ProcessInfo[] {
    return [...this.processes.values()].map((p) => ({
      id: p.id,
      command: p.command,
      workdir: p.workdir,
      running: p.running,
      exitCode: p.exitCode,
      signal: p.signal,
      startedAt: new Date(p.startedAt).toISOString(),
      endedAt: p.endedAt === undefined ? null : new Date(p.endedAt).toISOString(),
    }));
  }

  /** Output so far; with `waitMs`, first waits up to that long for the process to exit. */
  async output(id: string, waitMs = 0): Promise<ProcessOutputResponse> {
    const managed = this.get(id);
    if (waitMs > 0 && managed.running) await waitAtMost(managed.finished, waitMs);
    return this.outputOf(managed);
  }

  signal(id: string, signal: ProcessSignal): SignalProcessResponse {
    const managed = this.get(id);
    const pgid = managed.pid;
    const delivered =
      pgid !== undefined && this.liveGroups.has(pgid) ? signalGroup(pgid, signal) : false;
    if (!delivered && pgid !== undefined && !managed.running) this.liveGroups.delete(pgid);
    return { id, signal, delivered };
  }

  /** SIGKILLs every group this manager started and waits (briefly) for the leaders to be reaped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pgid of this.liveGroups) {
      try {
        signalGroup(pgid, 'SIGKILL');
      } catch {
        // One group that cannot be signalled must not spare the others.
      }
    }
    this.liveGroups.clear();
    // Whatever group a sandbox ended up in, killing its bwrap ends it: --die-with-parent kills
    // the init, and with it the whole pid namespace.
    for (const monitor of this.monitors) monitor.kill('SIGKILL');
    const pending = [...this.processes.values()].filter((p) => p.running).map((p) => p.finished);
    await waitAtMost(
      Promise.all(pending).then(() => undefined),
      CLOSE_WAIT_MS,
    );
    for (const managed of this.processes.values()) managed.timers.forEach(clearTimeout);
  }

  private get(id: string): ManagedProcess {
    const managed = this.processes.get(id);
    if (!managed) throw notFound(`No process with id ${id}`);
    return managed;
  }

  private spawn(request: StartProcessRequest, cwd: string): ManagedProcess {
    const env = buildProcessEnv({
      root: this.options.workspace.root,
      path: this.options.path,
      agentEnv: this.options.agentEnv,
      requestEnv: request.env,
    });
    const { sandbox } = this.options;
    const sandboxed = sandbox.kind === 'bwrap';
    const outbound = sandbox.kind === 'bwrap' && sandbox.policy.network === 'outbound';
    const child = sandboxed
      ? spawn(
          BWRAP,
          bwrapArgs(sandbox.policy, {
            root: this.options.workspace.root,
            cwd,
            command: request.command,
          }),
          // fd 3: the sandbox init's "exit N"; fd 4: bwrap's JSON status with the init's pid;
          // fd 5 (outbound): bwrap waits on it until the network is set up.
          {
            cwd,
            env,
            detached: true,
            stdio: [
              'ignore',
              'pipe',
              'pipe',
              'pipe',
              'pipe',
              ...(outbound ? ['pipe' as const] : []),
            ],
          },
        )
      : spawn(SHELL, ['-c', request.command], {
          cwd,
          env,
          detached: true, // own process group, so -pid reaches grandchildren
          stdio: ['ignore', 'pipe', 'pipe'],
        });

    let finish: () => void = () => undefined;
    let becomeReady: () => void = () => undefined;
    const managed: ManagedProcess = {
      id: randomUUID(),
      command: request.command,
      workdir: cwd,
      pid: undefined,
      ready: new Promise<void>((resolve) => {
        becomeReady = resolve;
      }),
      startedAt: Date.now(),
      endedAt: undefined,
      running: true,
      exitCode: null,
      signal: null,
      output: new HeadTailBuffer(),
      finished: new Promise<void>((resolve) => {
        finish = resolve;
      }),
      timers: [],
    };
    this.processes.set(managed.id, managed);
    // Sandboxed, signals can be sent once bwrap has told the init's pid and the init has said it
    // started the command; unsandboxed, at once.
    let initStarted = !sandboxed;
    const setGroup = (pgid: number) => {
      managed.pid = pgid;
      this.liveGroups.add(pgid);
      if (managed.running) this.scheduleKill(managed, request.killAfterMs);
      if (initStarted) becomeReady();
    };
    if (!sandboxed && child.pid !== undefined) setGroup(child.pid);

    const markFinished = () => {
      if (!managed.running) return;
      managed.running = false;
      managed.endedAt ??= Date.now();
      managed.output.end();
      managed.timers.forEach(clearTimeout);
      managed.timers = [];
      this.trimHistory();
      becomeReady();
      finish();
    };
    let exitSeen = false;
    const onExit = (exitCode: number | null, signal: string | null) => {
      if (exitSeen) return;
      exitSeen = true;
      managed.exitCode = exitCode;
      managed.signal = signal;
      managed.endedAt = Date.now();
      const drain = setTimeout(markFinished, STDIO_DRAIN_GRACE_MS);
      drain.unref();
      managed.timers.push(drain);
    };

    child.stdout?.on('data', (chunk: Buffer) => managed.output.write(chunk, 'stdout'));
    child.stderr?.on('data', (chunk: Buffer) => managed.output.write(chunk, 'stderr'));
    child.on('error', (error) => {
      // Only a failed spawn leaves no pid; errors sending signals later are not the command's.
      if (child.pid !== undefined) return;
      const program = sandboxed ? BWRAP : SHELL;
      managed.output.write(`agentgraph-agent: could not start ${program}: ${error.message}\n`);
      markFinished();
    });
    if (sandboxed) {
      this.monitors.add(child);
      child.on('exit', () => this.monitors.delete(child));
      onLines(child, STATUS_FD, (line) => {
        if (line === 'started') {
          initStarted = true;
          if (managed.pid !== undefined) becomeReady();
          return;
        }
        const status = /^exit (\d+)$/.exec(line);
        if (status) {
          const decoded = decodeShellStatus(Number(status[1]));
          onExit(decoded.exitCode, decoded.signal);
        }
      });
      let network: OutboundNetwork | undefined;
      onLines(child, BWRAP_STATUS_FD, (line) => {
        const pid = childPidOf(line);
        // Taken even after the command has finished: what it left running is still in the group.
        if (pid === undefined || managed.pid !== undefined) return;
        setGroup(pid);
        if (!outbound) return;
        connectOutbound(pid).then(
          (connected) => {
            network = connected;
            if (exitSeen) connected.close();
            // One byte lets bwrap go on and start the init.
            (child.stdio as unknown as Array<Writable | undefined>)[BLOCK_FD]?.end('1');
          },
          (error: unknown) => {
            const reason = error instanceof Error ? error.message : String(error);
            managed.output.write(`agentgraph-agent: outbound network failed: ${reason}\n`);
            // Still blocked before the init: kill it (bwrap then ends) rather than let it run.
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          },
        );
      });
      child.on('exit', () => network?.close());
      // bwrap itself exits once the whole sandbox is empty. Without an "exit" line first, the init
      // was killed (SIGKILL to the group) or bwrap failed to set up; its status says which.
      child.on('exit', (code, signal) => {
        if (code !== null) {
          const decoded = decodeShellStatus(code);
          onExit(decoded.exitCode, decoded.signal);
        } else {
          onExit(null, signal);
        }
      });
    } else {
      child.on('exit', (code, signal) => onExit(code, signal));
    }
    child.on('close', markFinished);
    return managed;
  }

  /** SIGTERM at killAfterMs, SIGKILL KILL_GRACE_MS later, to the process's whole group. */
  private scheduleKill(managed: ManagedProcess, killAfterMs: number | undefined): void {
    const pgid = managed.pid;
    if (killAfterMs === undefined || pgid === undefined) return;
    const term = setTimeout(
      () => {
        signalGroup(pgid, 'SIGTERM');
        const kill = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
        kill.unref();
        managed.timers.push(kill);
      },
      killAfterMs - (Date.now() - managed.startedAt),
    );
    term.unref();
    managed.timers.push(term);
  }

  private outputOf(managed: ManagedProcess): ProcessOutputResponse {
    const { output, truncated } = managed.output.snapshot();
    return {
      id: managed.id,
      running: managed.running,
      exitCode: managed.exitCode,
      signal: managed.signal,
      output,
      truncated,
      wallDurationMs: (managed.endedAt ?? Date.now()) - managed.startedAt,
    };
  }

  /** Forgets the oldest finished processes beyond PROCESS_HISTORY_LIMIT. */
  private trimHistory(): void {
    let finished = [...this.processes.values()].filter((p) => !p.running).length;
    for (const [id, managed] of this.processes) {
      if (finished <= PROCESS_HISTORY_LIMIT) break;
      if (managed.running) continue;
      this.processes.delete(id);
      finished -= 1;
    }
  }

  /** Drops groups whose every member has exited, so their ids are never signalled once reused. */
  private pruneGroups(): void {
    for (const pgid of this.liveGroups) {
      if (!signalGroup(pgid, 0)) this.liveGroups.delete(pgid);
    }
  }
}

/** Calls `onLine` for each line the child writes on its extra pipe `fd`. */
function onLines(child: ChildProcess, fd: number, onLine: (line: string) => void): void {
  const stream = child.stdio[fd];
  if (!stream || !('on' in stream)) return;
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline).trim());
      pending = pending.slice(newline + 1);
    }
  });
}

/** The "child-pid" of one line of bwrap's --json-status-fd output, if it has one. */
function childPidOf(line: string): number | undefined {
  try {
    const status: unknown = JSON.parse(line);
    if (typeof status === 'object' && status !== null && 'child-pid' in status) {
      const pid = status['child-pid'];
      if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) return pid;
    }
  } catch {
    // Not JSON: bwrap writes one object per line, so this is a partial or foreign line.
  }
  return undefined;
}
