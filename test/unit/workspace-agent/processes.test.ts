import { promises as fs } from 'node:fs';
import path from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  DEFAULT_SANDBOX_SETTINGS,
  type SandboxMode,
} from '../../../src/workspace/agent/sandbox.js';

import {
  expectAgentError,
  isAlive,
  startAgentFixture,
  TEST_TOKEN,
  uniqueSleep,
  waitForExit,
  waitForHostPid,
  waitForOutput,
  waitUntilDead,
  type AgentFixture,
} from './support.js';

const fixtures: AgentFixture[] = [];
/** Starts, each signalled at once (see 'never loses a signal…'). */
const SIGNAL_RACE_ATTEMPTS = 30;
/** How long a signalled `sleep` may take to be reported gone (it takes milliseconds). */
const SIGNAL_RACE_WAIT_MS = 3_000;
/** Every test runs in bubblewrap (required) and unsandboxed: both must behave the same. */
let mode: SandboxMode = 'bwrap';
async function agentFor(options: Parameters<typeof startAgentFixture>[0] = {}) {
  const fixture = await startAgentFixture({
    ...options,
    sandbox: { ...DEFAULT_SANDBOX_SETTINGS, mode },
  });
  fixtures.push(fixture);
  return fixture;
}
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
});

/** A command that blocks until the file `name` appears in its workdir, then prints `done`. */
const waitForFile = (name: string) =>
  `echo started; while [ ! -e ${name} ]; do sleep 0.02; done; echo done`;
const firstNumber = (output: string) => Number(/(\d+)/.exec(output)?.[1]);

describe.each(['bwrap', 'none'] as const)('sandbox %s', (sandboxMode) => {
  beforeAll(() => {
    mode = sandboxMode;
  });

  describe('foreground processes', () => {
    it('returns exit code and interleaved stdout and stderr', async () => {
      const { client } = await agentFor();
      const result = await client.startProcess({ command: 'echo out; echo err >&2; exit 3' });
      expect(result).toMatchObject({ running: false, exitCode: 3, signal: null, truncated: false });
      if (!('output' in result)) throw new Error('expected output');
      expect(result.output).toBe('out\nerr\n');
      expect(result.wallDurationMs).toBeGreaterThanOrEqual(0);
    });

    it('runs in workdir with stdin closed', async () => {
      const { client, root } = await agentFor();
      await fs.mkdir(path.join(root, 'sub'));
      const result = await client.startProcess({
        command: 'pwd; cat; echo "cat:$?"',
        workdir: 'sub',
      });
      expect(result).toMatchObject({ running: false, exitCode: 0 });
      if (!('output' in result)) throw new Error('expected output');
      expect(result.output).toBe(`${path.join(root, 'sub')}\ncat:0\n`);
    });

    it('answers running with an id at the timeout, and the output later', async () => {
      const { client, root } = await agentFor();
      const started = await client.startProcess({ command: waitForFile('go'), timeoutMs: 300 });
      expect(started.running).toBe(true);
      if (!('note' in started)) throw new Error('expected a still-running answer');
      expect(started.output).toBe('started\n');
      expect(started.note).toContain(started.id);
      expect(started.wallDurationMs).toBeGreaterThanOrEqual(300);

      await fs.writeFile(path.join(root, 'go'), '');
      const finished = await waitForExit(client, started.id);
      expect(finished).toMatchObject({ exitCode: 0, output: 'started\ndone\n' });
    });

    it('truncates large output to head and tail', async () => {
      const { client } = await agentFor();
      const result = await client.startProcess({ command: 'seq 1 20000' });
      if (!('output' in result)) throw new Error('expected output');
      expect(result.truncated).toBe(true);
      expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
      expect(result.output.endsWith('19999\n20000\n')).toBe(true);
      expect(result.output).toMatch(/… \[\d+ bytes omitted\] …/);
    });

    it('does not wait for a backgrounded grandchild holding the output open', async () => {
      const fixture = await agentFor();
      const sleep = uniqueSleep();
      const result = await fixture.client.startProcess({ command: `${sleep.command} & echo $!` });
      expect(result).toMatchObject({ running: false, exitCode: 0 });
      if (!('output' in result)) throw new Error('expected output');
      expect(firstNumber(result.output)).toBeGreaterThan(0);
      const grandchild = await waitForHostPid(sleep.argv);
      expect(isAlive(grandchild)).toBe(true);

      // Closing the agent kills the group even though its leader has already exited.
      fixtures.splice(fixtures.indexOf(fixture), 1);
      await fixture.close();
      expect(await waitUntilDead(grandchild)).toBe(true);
    });

    it('kills a foreground command whose caller went away (an interrupted turn)', async () => {
      const { client } = await agentFor();
      const sleep = uniqueSleep();
      const caller = new AbortController();
      const call = client.startProcess(
        { command: sleep.command, timeoutMs: 60_000 },
        { signal: caller.signal },
      );
      const pid = await waitForHostPid(sleep.argv);
      caller.abort();
      await expect(call).rejects.toThrow();
      expect(await waitUntilDead(pid)).toBe(true);
    });
  });

  describe('background processes and signals', () => {
    it('returns at once and keeps the output for polling and listing', async () => {
      const { client, root } = await agentFor();
      const started = await client.startProcess({
        command: 'echo background-done',
        background: true,
      });
      expect(started).toEqual({ id: expect.any(String), running: true });
      const finished = await waitForExit(client, started.id);
      expect(finished).toMatchObject({
        exitCode: 0,
        output: 'background-done\n',
        truncated: false,
      });

      const { processes } = await client.listProcesses();
      expect(processes).toEqual([
        {
          id: started.id,
          command: 'echo background-done',
          workdir: root,
          running: false,
          exitCode: 0,
          signal: null,
          startedAt: expect.any(String),
          endedAt: expect.any(String),
        },
      ]);
    });

    it('signals the whole group, so a grandchild dies with its parent', async () => {
      const { client } = await agentFor();
      const sleep = uniqueSleep();
      const started = await client.startProcess({
        command: `${sleep.command} & echo $!; wait`,
        background: true,
      });
      await waitForOutput(client, started.id, (o) => /\d+\n/.test(o.output));
      const grandchild = await waitForHostPid(sleep.argv);
      expect(isAlive(grandchild)).toBe(true);

      expect(await client.signalProcess(started.id, 'SIGKILL')).toEqual({
        id: started.id,
        signal: 'SIGKILL',
        delivered: true,
      });
      const finished = await waitForExit(client, started.id);
      expect(finished).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
      expect(await waitUntilDead(grandchild)).toBe(true);
    });

    it('reports a signal to a finished process with no group left as not delivered', async () => {
      const { client } = await agentFor();
      // A lone shell: once the agent has reaped it nothing of its group is left. (Orphaned
      // grandchildren may linger as zombies where no init reaps them, and still count as members.)
      const finished = await client.startProcess({ command: 'exit 0' });
      expect(await client.signalProcess(finished.id, 'SIGTERM')).toEqual({
        id: finished.id,
        signal: 'SIGTERM',
        delivered: false,
      });
    });

    it('stops a process with SIGTERM', async () => {
      const { client } = await agentFor();
      const started = await client.startProcess({ command: 'sleep 1000', background: true });
      await client.signalProcess(started.id, 'SIGTERM');
      expect(await waitForExit(client, started.id)).toMatchObject({
        signal: 'SIGTERM',
        exitCode: null,
      });
    });

    it('never loses a signal sent as soon as the start returns', async () => {
      // The sandbox used to report `started` between its fork and the command's exec, where a
      // signal met the init's handlers and was swallowed: most of these were lost under load.
      const { client } = await agentFor();
      const stillRunning: string[] = [];
      for (let attempt = 0; attempt < SIGNAL_RACE_ATTEMPTS; attempt++) {
        const started = await client.startProcess({ command: 'sleep 1000', background: true });
        await client.signalProcess(started.id, 'SIGTERM');
        const output = await client.processOutput(started.id, { waitMs: SIGNAL_RACE_WAIT_MS });
        if (!output.running) continue;
        stillRunning.push(started.id);
        await client.signalProcess(started.id, 'SIGKILL');
      }
      expect(stillRunning).toEqual([]);
    });

    it('kills a process group at killAfterMs', async () => {
      const { client } = await agentFor();
      const started = await client.startProcess({
        command: 'sleep 1000',
        background: true,
        killAfterMs: 200,
      });
      const finished = await waitForExit(client, started.id);
      expect(finished.signal).toBe('SIGTERM');
      expect(finished.wallDurationMs).toBeGreaterThanOrEqual(200);
    });

    it('refuses more running processes than the limit, and accepts again after one exits', async () => {
      const { client } = await agentFor({ maxProcesses: 2 });
      const first = await client.startProcess({ command: 'sleep 1000', background: true });
      await client.startProcess({ command: 'sleep 1000', background: true });
      await expectAgentError(
        client.startProcess({ command: 'echo third', background: true }),
        'TOO_MANY_PROCESSES',
        429,
      );
      await client.signalProcess(first.id, 'SIGKILL');
      await waitForExit(client, first.id);
      expect(await client.startProcess({ command: 'echo third' })).toMatchObject({ exitCode: 0 });
    });

    it('answers NOT_FOUND for an unknown process and BAD_REQUEST for an unknown signal', async () => {
      const { client, url } = await agentFor();
      await expectAgentError(
        client.processOutput('00000000-0000-0000-0000-000000000000'),
        'NOT_FOUND',
        404,
      );
      const started = await client.startProcess({ command: 'true', background: true });
      const response = await fetch(`${url}/api/v0/processes/${started.id}/signal`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify({ signal: 'SIGSTOP' }),
      });
      expect(response.status).toBe(400);
    });
  });
});
