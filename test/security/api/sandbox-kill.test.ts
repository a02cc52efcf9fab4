import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FakeLlm } from '../../../src/testing/fake-llm/index.js';
import { resultOf, runFirstTurn, textStep, toolStep } from '../../integration/workspace/support.js';
import { createBackendEnv, type BackendEnv } from '../../support/backend.js';
import { configureFakeModel, startScriptedLlm } from '../../support/llm.js';
import { spawnReplica, type Replica } from '../../support/replica.js';
import {
  isAlive,
  uniqueSleep,
  waitForHostPid,
  waitUntilDead,
  WAIT_LIMIT_MS,
} from '../../unit/workspace-agent/support.js';

/**
 * Issue #8, "workspace processes survive kill -9 of the server": a real server process whose
 * workspace has a backgrounded `sleep` and a background command is killed with SIGKILL; its
 * agent (a child process) and every sandboxed process of the workspace must go with it.
 */

/** Between scans of /proc; nothing signals the death of processes that are not our children. */
const SCAN_INTERVAL_MS = 20;

/** Live processes whose command line mentions `text` (the workspace directory). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

describe('sandbox: kill -9 of the server', () => {
  let backend: BackendEnv;
  let llm: FakeLlm;
  let replica: Replica;
  const adminToken = `kill-admin-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    // Postgres in both projects: what is killed is the server process, whatever its database,
    // and a PGlite replica can take longer than spawnReplica's start limit on a loaded machine.
    backend = await createBackendEnv('services');
    llm = await startScriptedLlm();
    replica = await spawnReplica(
      {
        ...backend.env,
        BOOTSTRAP_ADMIN_TOKEN: adminToken,
        CHAT_ACQUIRE_INTERVAL_MS: '100',
        WORKSPACE_SANDBOX: 'bwrap',
      },
      'sandbox-kill',
    );
    await configureFakeModel(replica.client(adminToken), llm);
  });
  afterAll(async () => {
    replica?.kill('SIGKILL');
    await replica?.exited;
    await llm?.close();
    await backend?.cleanup();
  });

  it('leaves no process of the workspace running', async () => {
    const left = uniqueSleep();
    const background = uniqueSleep();
    const text = 'Start something and get killed';
    llm.script(
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        { id: 'left', name: 'execute', args: { command: `${left.command} &` } },
        {
          id: 'background',
          name: 'execute',
          args: { command: background.command, run_in_background: true },
        },
      ]),
      textStep(text, 'Started.'),
    );
    const { stream } = await runFirstTurn(replica.client(adminToken), text);
    const workspace = resultOf(stream, 'create').result['workspace'] as { id: string };
    expect(resultOf(stream, 'left').result).toMatchObject({ exit_code: 0 });
    expect(resultOf(stream, 'background').result).toMatchObject({ running: true });
    await stream.close();

    const directory = path.resolve(backend.env['WORKSPACES_DIR']!, workspace.id);
    const sleeps = [await waitForHostPid(left.argv), await waitForHostPid(background.argv)];
    // The agent (--root DIR) and a bwrap per command (--bind DIR DIR) are running now.
    expect(processesMentioning(directory).length).toBeGreaterThanOrEqual(3);

    replica.kill('SIGKILL');
    expect(await replica.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const dead = await Promise.all(sleeps.map((pid) => waitUntilDead(pid)));
    expect(dead).toEqual(sleeps.map(() => true));
    const deadline = Date.now() + WAIT_LIMIT_MS;
    while (processesMentioning(directory).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SCAN_INTERVAL_MS));
    }
    expect(processesMentioning(directory)).toEqual([]);
  });
});
