import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { outboundResolvConf, probeOutbound } from './outbound-network.js';

/**
 * The sandbox every workspace command runs in (issue #8): bubblewrap (`bwrap`) gives each command
 * its own pid, mount, ipc, uts, user and (unless the policy says otherwise) network namespaces.
 * Inside, the file system is an empty read-only root with the system directories bound read-only,
 * a minimal /etc, a fresh /proc that shows only the sandbox's own processes, a private /tmp, and
 * the workspace bound read-write at its own absolute path (so paths in tool calls keep working).
 * The server's checkout, DATA_DIR, WORKSPACES_DIR and the other workspaces are simply not there.
 *
 * The first process inside is a small /bin/sh init (SANDBOX_INIT): it starts the command, reports
 * the command's exit status on fd 3 as soon as the command exits, and stays alive (as pid 1,
 * reaping orphans) while anything the command backgrounded (`server &`) still runs. bwrap's
 * monitor process lives as long as that init, and `--die-with-parent` ties both to the agent, so
 * a SIGKILLed agent takes every sandboxed process with it.
 */

export type SandboxMode = 'auto' | 'bwrap' | 'none';
export type NetworkPolicy = 'none' | 'outbound' | 'host';

/** Per-process resource limits applied with prlimit inside the sandbox; 0 means no limit. */
export interface ResourceLimits {
  /**
   * RLIMIT_NPROC: processes of the sandbox's uid. The kernel does not apply it to root (uid 0 on
   * the host, also when mapped into a user namespace), so it only bites when the agent runs as
   * an unprivileged user.
   */
  processes: number;
  /** RLIMIT_DATA in bytes: heap and other private writable memory of one process. */
  memoryBytes: number;
  /** RLIMIT_CPU in seconds of CPU time per process (SIGXCPU, then SIGKILL). */
  cpuSeconds: number;
  /** RLIMIT_FSIZE in bytes: largest file a process may write (SIGXFSZ / EFBIG beyond it). */
  fileSizeBytes: number;
}

export interface SandboxPolicy {
  network: NetworkPolicy;
  limits: ResourceLimits;
}

export interface SandboxSettings extends SandboxPolicy {
  /** auto: bwrap when the probe shows it works, otherwise none. bwrap: required. */
  mode: SandboxMode;
}

export const DEFAULT_LIMITS: Readonly<ResourceLimits> = {
  processes: 1024,
  memoryBytes: 4 * 1024 ** 3,
  cpuSeconds: 3600,
  fileSizeBytes: 1024 ** 3,
};

export const DEFAULT_SANDBOX_SETTINGS: Readonly<SandboxSettings> = {
  mode: 'auto',
  network: 'none',
  limits: DEFAULT_LIMITS,
};

/** What the agent actually does: run commands in bwrap with `policy`, or run them directly. */
export type ResolvedSandbox =
  { kind: 'bwrap'; policy: SandboxPolicy } | { kind: 'none'; explicit: boolean; reason: string };

export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}

export const BWRAP = 'bwrap';
const SHELL = '/bin/sh';
/** fd on which SANDBOX_INIT reports the command's exit status ("exit N\n"). */
export const STATUS_FD = 3;
/** fd on which bwrap writes its JSON status ({"child-pid": N} once the sandbox is set up). */
export const BWRAP_STATUS_FD = 4;
/**
 * fd bwrap waits on (--block-fd) before it runs the init, with WORKSPACE_NETWORK=outbound: the
 * agent writes to it once the namespace's network is set up.
 */
export const BLOCK_FD = 5;
/** Longest the start-time probe may take; bwrap answers in a few milliseconds when it works. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Read-only system directories. On merged-/usr systems /bin, /lib … are symlinks into /usr and
 * are recreated as symlinks; elsewhere they are bound like /usr.
 */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt'];
/**
 * The parts of /etc that programs need to run, resolve names and verify TLS; the rest of the
 * host's /etc (shadow, ssh keys, the server's own configuration) stays out.
 */
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'group',
  'host.conf',
  'hostname',
  'hosts',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'passwd',
  'protocols',
  'resolv.conf',
  'services',
  'ssl',
  'timezone',
];

/**
 * pid 1 of the sandbox. `$1` is the command line (run by a child /bin/sh -c, under the limits);
 * `$2…` is the prlimit prefix, empty without limits.
 * - It has a handler for TERM, INT and HUP, so a signal sent to the sandbox's process group
 *   reaches the command and everything it started without ending the init (and with it,
 *   through the pid namespace, every process at once).
 * - fds 3 and 4 are closed for the command so it cannot forge its own exit status.
 * - `started` on fd 3 is written by the command's own shell, after its exec: from then on the
 *   command has the default TERM/INT/HUP handling. Written by the init right after its fork, it
 *   let a signal land between the fork and the exec, while the child still had the init's
 *   handlers, where it was swallowed and the command ran on (a test lost 36 SIGTERMs in 60 on a
 *   loaded machine). Before `started`, a signal could also hit an init without handlers.
 * - After the command exits it reports `exit <status>` (128+n for a signal, as shells do) and then
 *   waits while any other process is left; the glob is expanded by the shell itself, so an idle
 *   sandbox (only /proc/1) ends without forking.
 */
export const SANDBOX_INIT = [
  'trap : TERM INT HUP',
  'command=$1; shift',
  // The command's own shell says `started`, then closes fds 3 and 4 and execs the command.
  `"$@" /bin/sh -c 'echo started >&3; exec 3>&- 4>&- /bin/sh -c "$1"' sh "$command" &`,
  'pid=$!',
  'while :; do wait "$pid" 2>/dev/null; status=$?; kill -0 "$pid" 2>/dev/null || break; done',
  'echo "exit $status" >&3',
  'exec 3>&- 4>&-',
  'while :; do set -- /proc/[0-9]*; [ "$#" -le 1 ] && exit 0; sleep 0.5; done',
].join('\n');

/** prlimit options for the limits (empty when none is set). */
export function limitArgs(limits: ResourceLimits): string[] {
  const options: string[] = [];
  if (limits.processes > 0) options.push(`--nproc=${limits.processes}`);
  if (limits.memoryBytes > 0) options.push(`--data=${limits.memoryBytes}`);
  if (limits.cpuSeconds > 0) options.push(`--cpu=${limits.cpuSeconds}`);
  if (limits.fileSizeBytes > 0) options.push(`--fsize=${limits.fileSizeBytes}`);
  return options.length === 0 ? [] : ['prlimit', ...options, '--'];
}

/** bwrap options that recreate the read-only system directories and the minimal /etc. */
function systemMountArgs(network: NetworkPolicy): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const stats = lstatOrUndefined(dir);
    if (!stats) continue;
    if (stats.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (stats.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  // node may live outside /usr (nvm, a tarball under /opt or $HOME): bind its installation too.
  const nodePrefix = path.dirname(path.dirname(process.execPath));
  if (!SYSTEM_DIRS.some((dir) => isInside(process.execPath, dir))) {
    args.push('--ro-bind', nodePrefix, nodePrefix);
  }
  for (const entry of ETC_ENTRIES) {
    // Outbound, names are resolved by slirp4netns's forwarder, not the host's (private) resolver.
    const source =
      entry === 'resolv.conf' && network === 'outbound' ? outboundResolvConf() : `/etc/${entry}`;
    args.push('--ro-bind-try', source, `/etc/${entry}`);
  }
  return args;
}

export interface SandboxCommand {
  /** Workspace root (a real path): bound read-write at the same path. */
  root: string;
  /** Working directory, inside the root. */
  cwd: string;
  /** The shell command line. */
  command: string;
}

/**
 * The argument vector of `bwrap` for one command. The environment is not in it: bwrap is spawned
 * with the (already allow-listed) environment itself, which keeps values out of `ps`.
 */
export function bwrapArgs(policy: SandboxPolicy, command: SandboxCommand): string[] {
  return [
    '--unshare-all',
    ...(policy.network === 'host' ? ['--share-net'] : []),
    '--die-with-parent',
    // Its own session: the sandbox's processes form one group (led by the init) that the agent
    // signals as a whole; no controlling terminal is shared (TIOCSTI).
    '--new-session',
    '--as-pid-1',
    '--cap-drop',
    'ALL',
    '--hostname',
    'workspace',
    ...systemMountArgs(policy.network),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var/tmp',
    '--bind',
    command.root,
    command.root,
    // Everything above is mounted; from here on the rest of the root is read-only too.
    '--remount-ro',
    '/',
    '--chdir',
    command.cwd,
    '--json-status-fd',
    String(BWRAP_STATUS_FD),
    ...(policy.network === 'outbound' ? ['--block-fd', String(BLOCK_FD)] : []),
    '--',
    SHELL,
    '-c',
    SANDBOX_INIT,
    'agentgraph-sandbox',
    command.command,
    ...limitArgs(policy.limits),
  ];
}

/**
 * Runs `true` in a sandbox like the ones commands get; resolves to why it failed, or null when it
 * works. Synchronous on purpose: it runs once, at start, before anything is served.
 */
export function probeBwrap(policy: SandboxPolicy): string | null {
  if (policy.network === 'outbound') {
    const missing = probeOutbound();
    if (missing) return missing;
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'agentgraph-sandbox-probe-'));
  try {
    const result = spawnSync(
      BWRAP,
      // Outbound would wait for a network set up by the agent; the namespaces are the same.
      bwrapArgs({ ...policy, network: 'none' }, { root, cwd: root, command: 'true' }),
      // fds 3 and 4 as the agent wires them: the init's status and bwrap's JSON status.
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
        timeout: PROBE_TIMEOUT_MS,
        encoding: 'utf8',
      },
    );
    if (result.error) return result.error.message;
    if (result.status !== 0) {
      const stderr = String(result.stderr ?? '')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .join('; ');
      return `bwrap exited with ${result.status ?? result.signal}${stderr ? `: ${stderr}` : ''}`;
    }
    return null;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Probe outcomes by policy and PATH: bwrap does not start or stop working while a process runs. */
const probeResults = new Map<string, string | null>();

/**
 * Decides how commands run. `bwrap` mode throws SandboxUnavailableError when the probe fails;
 * `auto` falls back to unsandboxed with the reason; `none` is unsandboxed by request.
 */
export function resolveSandbox(settings: SandboxSettings): ResolvedSandbox {
  const policy: SandboxPolicy = { network: settings.network, limits: settings.limits };
  if (settings.mode === 'none') {
    return { kind: 'none', explicit: true, reason: 'WORKSPACE_SANDBOX=none' };
  }
  // PATH is part of the key: it decides which bwrap (if any) the probe and the commands run.
  const key = JSON.stringify([policy, process.env.PATH]);
  let failure = probeResults.get(key);
  if (failure === undefined) {
    failure = probeBwrap(policy);
    probeResults.set(key, failure);
  }
  if (failure === null) return { kind: 'bwrap', policy };
  if (settings.mode === 'bwrap') {
    throw new SandboxUnavailableError(
      `WORKSPACE_SANDBOX=bwrap but bwrap does not work: ${failure}`,
    );
  }
  return { kind: 'none', explicit: false, reason: failure };
}

/**
 * Exit status as the sandbox's shell reports it (128+n for signal n) turned back into the
 * exit code / signal pair a direct child would give. A command that itself exits with 129-192
 * is reported as the signal: the shell makes the two indistinguishable.
 */
export function decodeShellStatus(status: number): {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
} {
  if (status > 128) {
    const signal = signalName(status - 128);
    if (signal) return { exitCode: null, signal };
  }
  return { exitCode: status, signal: null };
}

function signalName(signo: number): NodeJS.Signals | undefined {
  const entry = Object.entries(os.constants.signals).find(([, number]) => number === signo);
  return entry?.[0] as NodeJS.Signals | undefined;
}

function lstatOrUndefined(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function isInside(file: string, dir: string): boolean {
  return file === dir || file.startsWith(dir + path.sep);
}
