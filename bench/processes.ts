import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * Child processes of the bench (replicas, the fake LLM), their cleanup, and what the kernel
 * says about them (/proc): the CPU time and RSS figures do not depend on the server reporting
 * them itself.
 */

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Lines of output kept per child, for the error message when it dies. */
const KEPT_LINES = 200;
const KIB = 1024;
const DEFAULT_CLK_TCK = 100;

/** Progress goes to stderr; the table goes to stdout. */
export const progress = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

type Cleanup = () => Promise<void> | void;
const cleanups: Cleanup[] = [];
const children = new Set<ChildProcess>();

/** Registers work for exit, run last-registered first (a database is dropped after its users). */
export function onCleanup(cleanup: Cleanup) {
  cleanups.push(cleanup);
}

let cleaning: Promise<void> | undefined;
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        progress(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return cleaning;
}

// Whatever way the bench ends (error, Ctrl-C), nothing it started outlives it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Resolves with the first output line (already written or to come) matching `predicate`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number): Promise<string>;
  stop(timeoutMs?: number): Promise<void>;
  /** The last lines of output (kept for error reports). */
  recentLines(): string[];
  /** The last error-level log lines. */
  errorLines(): string[];
}

/** The minimal environment a child gets; nothing else of the bench's environment leaks in. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function spawnChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  options: { stdin?: boolean } = {},
): Child {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env,
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  // Error lines are kept apart: at LOG_LEVEL info they would scroll out of `lines` quickly.
  const errorLines: string[] = [];
  const listeners = new Set<() => void>();
  let ended = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      children.delete(child);
      ended = true;
      resolve(code);
      for (const listener of [...listeners]) listener();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => {
      lines.push(line);
      if (lines.length > KEPT_LINES) lines.shift();
      // Also the warnings that explain deltas a subscriber missed: a replica's Redis connection
      // dropped (e.g. its pub/sub output buffer limit), a SUBSCRIBE failed, or a socket hit its
      // send-buffer cap (1013).
      if (
        /"level"\s*:\s*("error"|50|"fatal"|60)/.test(line) ||
        /Redis connection lost|subscribe failed|the client does not read/.test(line)
      ) {
        errorLines.push(line);
        if (errorLines.length > KEPT_LINES) errorLines.shift();
      }
      for (const listener of [...listeners]) listener();
    });
  }
  const waitForLine = (predicate: (line: string) => boolean, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (ended) {
          done();
          reject(new Error(`${name} exited; last output:\n${lines.slice(-40).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: no expected output within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    name,
    pid: child.pid!,
    process: child,
    exited,
    waitForLine,
    recentLines: () => [...lines],
    errorLines: () => [...errorLines],
    async stop(timeoutMs = 10_000) {
      if (ended) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface StartCommand {
  /** Arguments to `node`. */
  args: string[];
  /** How package.json's start script reads, and what the bench runs for it. */
  description: string;
}

/**
 * The replicas start exactly as `npm start` would: `node <file>` runs that file (after the
 * `prestart` script, as npm does); `tsx <file>` becomes `node --import tsx <file>`, which is what
 * tsx's CLI runs in its child process, minus the extra parent process.
 */
export function resolveStartCommand(): StartCommand {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const start = pkg.scripts?.['start'] ?? '';
  const node = /^node\s+(.+)$/.exec(start.trim());
  const tsx = /^tsx\s+(\S+)$/.exec(start.trim());
  let args: string[];
  if (node) args = node[1]!.split(/\s+/);
  else if (tsx) args = ['--import', 'tsx', tsx[1]!];
  else throw new Error(`bench: cannot run package.json scripts.start "${start}" directly`);
  const prestart = pkg.scripts?.['prestart'];
  if (prestart) {
    progress(`running prestart: ${prestart}`);
    const built = spawnSync('npm', ['run', '--silent', 'prestart'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (built.status !== 0) throw new Error(`bench: prestart failed (exit ${built.status})`);
  }
  const file = args.find((arg) => /\.(m?js|ts)$/.test(arg));
  if (file && !existsSync(path.join(REPO_ROOT, file))) {
    throw new Error(`bench: ${file} (from scripts.start) does not exist; build it first`);
  }
  return { args, description: `"${start}" → node ${args.join(' ')}` };
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = DEFAULT_CLK_TCK;
    }
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = DEFAULT_CLK_TCK;
  }
  return clockTicks;
}

/** A /proc file of a process, or undefined once the process is gone (Ctrl-C, a crash). */
function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, clock-tick resolution). */
export function cpuSeconds(pid: number): number {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return Number.NaN;
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const UTIME = 11;
  const STIME = 12;
  return (Number(fields[UTIME]) + Number(fields[STIME])) / ticksPerSecond();
}

/** Resident set size in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const status = readProc(pid, 'status');
  if (status === undefined) return Number.NaN;
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * KIB : Number.NaN;
}
