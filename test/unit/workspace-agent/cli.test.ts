import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { WorkspaceAgentClient } from '../../../src/workspace/agent-client.js';
import {
  TEST_TOKEN,
  uniqueSleep,
  waitForHostPid,
  waitForOutput,
  waitUntilDead,
} from './support.js';

const BIN = fileURLToPath(new URL('../../../bin/agentgraph-agent.mjs', import.meta.url));
const LISTENING = /listening on (http:\/\/\S+)/;
const EXIT_USAGE = 2;

let root: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-cli-')));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await fs.rm(root, { recursive: true, force: true });
});

function launch(args: string[], token: string | undefined) {
  const env = { ...process.env };
  delete env.AGENTGRAPH_AGENT_TOKEN;
  if (token !== undefined) env.AGENTGRAPH_AGENT_TOKEN = token;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({
    code: code as number | null,
    stdout,
    stderr,
  }));
  /** Resolves with the agent's URL once it prints it. */
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const url = LISTENING.exec(stdout)?.[1];
      if (url) resolve(url);
    });
    void exited.then(({ code }) =>
      reject(new Error(`agent exited (${code}) before listening: ${stderr}`)),
    );
  });
  listening.catch(() => undefined); // only a test that awaits it cares
  return { child, exited, listening };
}

describe('agentgraph-agent command', () => {
  it('refuses to start without a token', async () => {
    const { exited } = launch(['--root', root], undefined);
    const { code, stderr } = await exited;
    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toContain('AGENTGRAPH_AGENT_TOKEN');
  });

  it('serves the root with the token from the environment and kills its processes on SIGTERM', async () => {
    const { child, exited, listening } = launch(['--root', root, '--port', '0'], TEST_TOKEN);
    const url = await listening;
    const client = new WorkspaceAgentClient({ url, token: TEST_TOKEN });
    expect(await client.health()).toEqual({ status: 'ok' });
    await client.writeFile({ path: 'hello.txt', content: 'hi\n' });
    expect(await fs.readFile(path.join(root, 'hello.txt'), 'utf8')).toBe('hi\n');

    const sleep = uniqueSleep();
    const started = await client.startProcess({
      command: `${sleep.command} & echo $!; wait`,
      background: true,
    });
    await waitForOutput(client, started.id, (o) => /\d+\n/.test(o.output));
    const grandchild = await waitForHostPid(sleep.argv);

    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
    expect(await waitUntilDead(grandchild)).toBe(true);
  });
});
