import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { NON_INTERACTIVE_ENV } from '../../../src/workspace/agent/index.js';
import {
  DEFAULT_LIMITS,
  resolveSandbox,
  SandboxUnavailableError,
  type SandboxSettings,
} from '../../../src/workspace/agent/sandbox.js';
import {
  startAgentFixture,
  waitForExit,
  type AgentFixture,
} from '../../unit/workspace-agent/support.js';

/**
 * Issue #8, rows 1 and 2: what a command in a workspace can reach, attacked through the agent's
 * HTTP API with the sandbox required (mode bwrap: the agent refuses to start without it, so these
 * can never pass by running unsandboxed).
 */

const MIB = 1024 * 1024;
/** Recognisable values planted in the agent's own environment; no command may see them. */
const PLANTED = {
  SECRET_KEY: 'planted-secret-key-5f0c2b7e9a',
  DATABASE_URL: 'postgres://planted:planted-db-password-81d3@127.0.0.1:5432/x',
  BOOTSTRAP_ADMIN_TOKEN: 'planted-admin-token-c47a19e2',
};

const sandboxed = (overrides: Partial<SandboxSettings> = {}): SandboxSettings => ({
  mode: 'bwrap',
  network: 'none',
  limits: DEFAULT_LIMITS,
  ...overrides,
});

async function run(agent: AgentFixture, command: string, timeoutMs = 20_000) {
  const result = await agent.client.startProcess({ command, timeoutMs });
  if (!('output' in result)) throw new Error('expected a foreground result');
  return result.running ? waitForExit(agent.client, result.id) : result;
}

/** A node one-liner that prints "connected" or the connect error's code. */
const connectTo = (port: number, host = '127.0.0.1') =>
  `node -e "require('net').connect(${port}, '${host}')` +
  `.on('connect', () => { console.log('connected'); process.exit(0); })` +
  `.on('error', (e) => { console.log(e.code); process.exit(1); })` +
  `.setTimeout(3000, () => { console.log('timeout'); process.exit(1); })"`;

describe('sandbox: what a workspace command can see', () => {
  let agent: AgentFixture;
  let other: AgentFixture;
  let dataDir: string;

  beforeAll(async () => {
    for (const [name, value] of Object.entries(PLANTED)) vi.stubEnv(name, value);
    agent = await startAgentFixture({ sandbox: sandboxed() });
    other = await startAgentFixture({ sandbox: sandboxed() });
    await fs.writeFile(path.join(other.root, 'private.txt'), 'other user private\n');
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-data-'));
    await fs.writeFile(path.join(dataDir, 'secret-key'), `${PLANTED.SECRET_KEY}\n`);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await agent?.close();
    await other?.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('reads no secret from any /proc/*/environ, the parent included', async () => {
    const result = await run(
      agent,
      "tr '\\0' '\\n' < /proc/$PPID/environ; cat /proc/*/environ; " +
        'cat /proc/1/cmdline; ls /proc',
    );
    for (const value of Object.values(PLANTED)) expect(result.output).not.toContain(value);
    // The host's processes (the agent, the test runner) are not in this /proc at all.
    expect(result.output).not.toContain(String(process.pid));
    const pids = result.output.split('\n').filter((line) => /^\d+$/.test(line));
    expect(pids.length).toBeLessThan(6);
  });

  it('gets only the allow-listed environment', async () => {
    const result = await run(agent, 'env');
    const names = result.output
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.slice(0, line.indexOf('=')));
    // PWD is the shell's own; everything else comes from environment.ts.
    const allowed = new Set(['PATH', 'HOME', 'PWD', ...Object.keys(NON_INTERACTIVE_ENV)]);
    expect(names.filter((name) => !allowed.has(name))).toEqual([]);
    expect(result.output).toContain(`HOME=${agent.root}\n`);
  });

  it('cannot read another workspace, DATA_DIR or the server checkout', async () => {
    const result = await run(
      agent,
      `cat ${other.root}/private.txt; echo "other:$?"; ` +
        `cat ${dataDir}/secret-key; echo "data:$?"; ` +
        `ls ${process.cwd()}/src; echo "checkout:$?"; ` +
        `ls ${path.dirname(agent.root)}; echo "siblings:$?"`,
    );
    expect(result.output).not.toContain('other user private');
    expect(result.output).not.toContain(PLANTED.SECRET_KEY);
    expect(result.output).toMatch(/other:[1-9]/);
    expect(result.output).toMatch(/data:[1-9]/);
    expect(result.output).toMatch(/checkout:[1-9]/);
    // The workspace's parent exists only as the mount point of the workspace itself.
    expect(result.output).toContain(`${path.basename(agent.root)}\nsiblings:0`);
  });

  it('can write only inside the workspace', async () => {
    const escape = path.join(path.dirname(agent.root), 'escaped.txt');
    const result = await run(
      agent,
      `echo x > ${escape}; echo "outer:$?"; echo x > /usr/x; echo "usr:$?"; ` +
        `echo x > /etc/x; echo "etc:$?"; echo x > /x; echo "root:$?"; ` +
        'echo x > /tmp/x; echo "tmp:$?"; echo x > inside.txt; echo "inside:$?"',
    );
    // The fixture's workspace lies under /tmp, which is the sandbox's own tmpfs: the write to its
    // parent may succeed there, but must never reach the host.
    expect(result.output).toMatch(/outer:\d/);
    expect(result.output).toMatch(/usr:[1-9]/);
    expect(result.output).toMatch(/etc:[1-9]/);
    expect(result.output).toMatch(/root:[1-9]/);
    expect(result.output).toContain('tmp:0');
    expect(result.output).toContain('inside:0');
    await expect(fs.access(escape)).rejects.toThrow();
    expect(await fs.readFile(path.join(agent.root, 'inside.txt'), 'utf8')).toBe('x\n');
  });

  it('runs with no capabilities', async () => {
    const result = await run(agent, 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status');
    expect(result.output).toMatch(/CapEff:\s+0+\n/);
    expect(result.output).toMatch(/CapBnd:\s+0+\n/);
  });
});

describe('sandbox: network policy', () => {
  let listener: Server;
  let port: number;
  const agents: AgentFixture[] = [];

  beforeAll(async () => {
    // A service on the host's loopback, like Postgres or Redis.
    // Bound to every address, as a carelessly configured Postgres or Redis would be.
    listener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    port = (listener.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await new Promise((resolve) => listener.close(resolve));
  });

  it('none: the host loopback (Postgres, Redis, anything) is unreachable', async () => {
    const agent = await startAgentFixture({ sandbox: sandboxed({ network: 'none' }) });
    agents.push(agent);
    for (const target of [port, 5432, 6379]) {
      const result = await run(agent, connectTo(target));
      expect(result.output).not.toContain('connected');
      expect(result.exitCode).toBe(1);
    }
  });

  it('outbound: a network, but not the host loopback, the host addresses or private ranges', async () => {
    const agent = await startAgentFixture({ sandbox: sandboxed({ network: 'outbound' }) });
    agents.push(agent);
    const routes = await run(agent, 'ip route');
    expect(routes.output).toContain('default via 10.0.2.2');
    const hostAddresses = Object.values(os.networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((address) => address.family === 'IPv4')
      .map((address) => address.address);
    // 10.0.2.2 is slirp4netns's gateway, which would lead to the host's loopback if allowed.
    for (const host of ['127.0.0.1', '10.0.2.2', '192.168.1.1', ...hostAddresses]) {
      for (const target of [port, 5432, 6379]) {
        const result = await run(agent, connectTo(target, host));
        expect(result.output, `${host}:${target}`).not.toContain('connected');
      }
    }
  });

  it('host: the same service is reachable (the attack above can succeed)', async () => {
    const agent = await startAgentFixture({ sandbox: sandboxed({ network: 'host' }) });
    agents.push(agent);
    const result = await run(agent, connectTo(port));
    expect(result.output).toBe('connected\n');
  });
});

describe('sandbox: resource limits', () => {
  let agent: AgentFixture;
  beforeAll(async () => {
    agent = await startAgentFixture({
      sandbox: sandboxed({
        limits: {
          processes: 0,
          memoryBytes: 256 * MIB,
          cpuSeconds: 1,
          fileSizeBytes: 1 * MIB,
        },
      }),
    });
  });
  afterAll(() => agent?.close());

  it('stops a file at the size limit', async () => {
    const result = await run(agent, 'head -c 5000000 /dev/zero > big; echo "status:$?"');
    expect(result.output).toMatch(/status:[1-9]/);
    const { size } = await fs.stat(path.join(agent.root, 'big'));
    expect(size).toBeLessThanOrEqual(1 * MIB);
  });

  it('stops a CPU spinner at the CPU-time limit', async () => {
    const result = await run(agent, 'while :; do :; done');
    expect(result.exitCode).toBeNull();
    expect(['SIGXCPU', 'SIGKILL']).toContain(result.signal);
  });

  it('refuses memory beyond the limit', async () => {
    const result = await run(
      agent,
      `node -e "const b = Buffer.alloc(${512 * MIB}, 1); console.log('allocated', b.length)"`,
    );
    expect(result.output).not.toContain('allocated');
    expect(result.exitCode === 0 && result.signal === null).toBe(false);
  });
});

describe('sandbox: mode', () => {
  it('bwrap (required) refuses to start when bubblewrap cannot run; auto falls back', async () => {
    vi.stubEnv('PATH', path.join(os.tmpdir(), 'agentgraph-no-such-dir'));
    try {
      expect(() => resolveSandbox(sandboxed())).toThrow(SandboxUnavailableError);
      expect(resolveSandbox(sandboxed({ mode: 'auto' }))).toMatchObject({
        kind: 'none',
        explicit: false,
      });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(resolveSandbox(sandboxed({ mode: 'auto' })).kind).toBe('bwrap');
    expect(resolveSandbox(sandboxed({ mode: 'none' }))).toMatchObject({
      kind: 'none',
      explicit: true,
    });
  });
});
