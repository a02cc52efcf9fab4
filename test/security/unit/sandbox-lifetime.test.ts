import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { WorkspaceAgentClient } from '../../../src/workspace/agent-client.js';
import {
  TEST_TOKEN,
  uniqueSleep,
  waitForHostPid,
  waitUntilDead,
} from '../../unit/workspace-agent/support.js';

/**
 * Issue #8, "workspace processes survive kill -9": nothing a sandboxed command starts may outlive
 * its agent, however the agent ends. The agent runs as the real command (bin/agentgraph-agent.mjs)
 * with stdin from this test, as the server starts it.
 */

const BIN = fileURLToPath(new URL('../../../bin/agentgraph-agent.mjs', import.meta.url));
const LISTENING = /listening on (http:\/\/\S+)/;

const children: ChildProcess[] = [];
const roots: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await Promise.all(roots.splice(0).map((root) => fs.rm(root, { recursive: true, force: true })));
});

async function startAgent() {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-life-')));
  roots.push(root);
  const child = spawn(
    process.execPath,
    [BIN, '--root', root, '--sandbox', 'bwrap', '--exit-with-stdin'],
    {
      env: { PATH: process.env.PATH ?? '', AGENTGRAPH_AGENT_TOKEN: TEST_TOKEN },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = LISTENING.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}): ${stdout}`)));
  });
  expect(stdout).toContain('sandbox bwrap');
  const client = new WorkspaceAgentClient({ url, token: TEST_TOKEN });

  // A foreground command that leaves a process behind, and a background one.
  const left = uniqueSleep();
  const background = uniqueSleep();
  await client.startProcess({ command: `${left.command} &` });
  await client.startProcess({ command: background.command, background: true });
  const pids = [await waitForHostPid(left.argv), await waitForHostPid(background.argv)];
  return { child, pids };
}

describe('sandbox: nothing outlives the agent', () => {
  it('kill -9 of the agent kills every sandboxed process (--die-with-parent)', async () => {
    const { child, pids } = await startAgent();
    child.kill('SIGKILL');
    await once(child, 'exit');
    for (const pid of pids) expect(await waitUntilDead(pid)).toBe(true);
  });

  it('the agent exits when its stdin closes (the server died) and takes its processes along', async () => {
    const { child, pids } = await startAgent();
    const exited = once(child, 'exit');
    child.stdin?.end();
    expect((await exited)[0]).toBe(0);
    for (const pid of pids) expect(await waitUntilDead(pid)).toBe(true);
  });
});
