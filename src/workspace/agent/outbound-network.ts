import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * WORKSPACE_NETWORK=outbound: a sandbox's empty network namespace gets a user-mode network from
 * slirp4netns (a tap device whose traffic slirp4netns replays with ordinary sockets on the host),
 * with the host's loopback disabled (`--disable-host-loopback`: 10.0.2.2 does not lead to
 * 127.0.0.1) and the private, link-local and CGNAT ranges routed to `unreachable` inside the
 * namespace, as are the host's own addresses, so neither the host's services nor the private
 * network around it can be reached.
 * The sandbox's processes have no capabilities and cannot change those routes. DNS goes to
 * slirp4netns's forwarder (10.0.2.3), which asks the host's resolver.
 */

const SLIRP4NETNS = 'slirp4netns';
const NSENTER = 'nsenter';
const IP = 'ip';
/** Inside the namespace: the tap device, and slirp4netns's DNS forwarder on its default network. */
const TAP_DEVICE = 'tap0';
const SLIRP_DNS = '10.0.2.3';
/** slirp4netns's own default network (10.0.2.0/24) stays routable: it is more specific. */
export const BLOCKED_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '192.0.2.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
/** The MTU slirp4netns recommends for throughput. */
const MTU = 65_520;
/** Longest slirp4netns may take to set up the namespace's network. */
const READY_TIMEOUT_MS = 10_000;

export interface OutboundNetwork {
  /** Stops slirp4netns (when the sandbox has ended). */
  close(): void;
}

/** Missing tools for outbound networking, or null when all are there. */
export function probeOutbound(): string | null {
  for (const [tool, args] of [
    [SLIRP4NETNS, ['--version']],
    [NSENTER, ['--version']],
    [IP, ['-V']],
  ] as const) {
    const result = spawnSync(tool, args, { stdio: 'ignore' });
    if (result.error || result.status !== 0) {
      return `WORKSPACE_NETWORK=outbound needs ${tool}, which does not run here`;
    }
  }
  return null;
}

let resolvConf: string | undefined;
/** A resolv.conf naming slirp4netns's DNS forwarder, bound over /etc/resolv.conf in sandboxes. */
export function outboundResolvConf(): string {
  if (resolvConf === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'agentgraph-outbound-'));
    resolvConf = path.join(dir, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${SLIRP_DNS}\n`);
  }
  return resolvConf;
}

/**
 * Gives the network namespace of `pid` (the sandbox's init, blocked until this resolves) its
 * outbound network. slirp4netns watches a pipe held by this process (--exit-fd), so it also ends
 * when the agent dies.
 */
export async function connectOutbound(pid: number): Promise<OutboundNetwork> {
  const args = [
    '--configure',
    `--mtu=${MTU}`,
    '--disable-host-loopback',
    '--exit-fd=3',
    '--ready-fd=4',
  ];
  // Unprivileged, joining the sandbox's user namespace is what allows creating the tap device.
  if (process.getuid?.() !== 0) args.push(`--userns-path=/proc/${pid}/ns/user`);
  const slirp = spawn(SLIRP4NETNS, [...args, String(pid), TAP_DEVICE], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const close = () => {
    if (slirp.exitCode === null && slirp.signalCode === null) slirp.kill('SIGKILL');
  };
  let stderr = '';
  slirp.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      slirp.stdio[4]?.once('data', () => resolve());
      slirp.once('error', reject);
      slirp.once('exit', (code) => reject(new Error(`slirp4netns exited (${code}): ${stderr}`)));
      timer = setTimeout(
        () => reject(new Error('slirp4netns did not get ready')),
        READY_TIMEOUT_MS,
      );
    });
    const netns = `--net=/proc/${pid}/ns/net`;
    for (const range of [...BLOCKED_RANGES, ...hostAddresses()]) {
      await run(NSENTER, [netns, IP, 'route', 'add', 'unreachable', range]);
    }
    return { close };
  } catch (error) {
    close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The host's own IPv4 addresses as /32 routes: a service bound to 0.0.0.0 answers on a public
 * address too, which slirp4netns would otherwise connect to from the host itself.
 */
function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => `${address.address}/32`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr.trim()}`)),
    );
  });
}
