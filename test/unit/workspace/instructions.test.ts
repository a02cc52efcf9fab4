import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startWorkspaceAgent, type WorkspaceAgent } from '../../../src/workspace/agent/index.js';
import { WorkspaceAgentClient } from '../../../src/workspace/agent-client.js';
import {
  MAX_INSTRUCTIONS_BYTES,
  readWorkspaceInstructions,
} from '../../../src/workspace/instructions.js';

const TOKEN = 'instructions-test-token-0123456789';

describe('readWorkspaceInstructions (AGENTS.md)', () => {
  let root: string;
  let agent: WorkspaceAgent;
  let client: WorkspaceAgentClient;

  beforeEach(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-instr-')));
    agent = await startWorkspaceAgent({ root, token: TOKEN });
    client = new WorkspaceAgentClient({ url: agent.url, token: TOKEN });
  });
  afterEach(async () => {
    await agent.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('is null without an AGENTS.md and the content with one', async () => {
    expect(await readWorkspaceInstructions(client)).toBeNull();
    await fs.writeFile(path.join(root, 'AGENTS.md'), 'Use tabs.\n');
    expect(await readWorkspaceInstructions(client)).toBe('Use tabs.\n');
  });

  it('keeps exactly the first 32 KiB and says it cut the rest', async () => {
    await fs.writeFile(path.join(root, 'AGENTS.md'), 'a'.repeat(MAX_INSTRUCTIONS_BYTES));
    expect(await readWorkspaceInstructions(client)).toBe('a'.repeat(MAX_INSTRUCTIONS_BYTES));

    // A three-byte character straddles the cap: it is dropped whole, never half-decoded.
    await fs.writeFile(
      path.join(root, 'AGENTS.md'),
      'a'.repeat(MAX_INSTRUCTIONS_BYTES - 1) + '€ and more',
    );
    const cut = await readWorkspaceInstructions(client);
    expect(
      cut?.startsWith('a'.repeat(MAX_INSTRUCTIONS_BYTES - 1) + '\n\n[AGENTS.md was truncated'),
    ).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });

  it('does not follow an AGENTS.md symlink out of the workspace', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-outside-'));
    try {
      await fs.writeFile(path.join(outside, 'secret.md'), 'secret');
      await fs.symlink(path.join(outside, 'secret.md'), path.join(root, 'AGENTS.md'));
      await expect(readWorkspaceInstructions(client)).rejects.toMatchObject({
        code: 'PATH_OUTSIDE_WORKSPACE',
      });
    } finally {
      await fs.rm(outside, { recursive: true, force: true });
    }
  });
});
