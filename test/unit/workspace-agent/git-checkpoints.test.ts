import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createCheckpoint, restoreCheckpoint } from '../../../src/workspace/agent/checkpoints.js';
import { scanGitChanges } from '../../../src/workspace/agent/git-changes.js';
import { Workspace } from '../../../src/workspace/agent/paths.js';

/** Issue #11, agent side: git changes of a workspace and checkpoints in a git dir of our own. */
describe('workspace agent: git changes and checkpoints', () => {
  let base: string;
  let root: string;
  let stateDir: string;
  let workspace: Workspace;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
      cwd: root,
      env: { PATH: process.env['PATH'], HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' },
    }).toString();

  beforeAll(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-git-'));
    root = path.join(base, 'ws');
    stateDir = path.join(base, 'state');
    await fs.mkdir(path.join(root, 'src'), { recursive: true });
    await fs.writeFile(path.join(root, 'src/a.txt'), 'one\ntwo\n');
    await fs.writeFile(path.join(root, '.gitignore'), 'ignored/\n');
    git('init', '-q', '-b', 'main');
    git('remote', 'add', 'origin', 'https://user:secret@example.com/repo.git');
    git('add', '-A');
    git('commit', '-q', '-m', 'init');
    workspace = await Workspace.open(root);
  });
  afterAll(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('reports branch, origin without credentials, files with line counts, and the diff', async () => {
    await fs.writeFile(path.join(root, 'src/a.txt'), 'one\nTWO\nthree\n');
    await fs.writeFile(path.join(root, 'new.txt'), 'fresh\n');
    const { repositories } = await scanGitChanges(workspace, ['src/a.txt']);
    expect(repositories).toHaveLength(1);
    const [repo] = repositories;
    expect(repo).toMatchObject({
      path: '.',
      branch: 'main',
      origin: 'https://example.com/repo.git',
      headCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
      truncated: false,
      files: [
        { path: 'new.txt', status: 'UNTRACKED', additions: 1, deletions: 0 },
        { path: 'src/a.txt', status: 'MODIFIED', additions: 2, deletions: 1 },
      ],
    });
    expect(repo!.diff).toContain('+TWO');
    expect(repo!.diff).toContain('+fresh');
    // Put things back for the next test.
    git('checkout', '-q', '--', 'src/a.txt');
    await fs.rm(path.join(root, 'new.txt'));
  });

  it('runs none of the commands a repository config names (filters)', async () => {
    const marker = path.join(base, 'pwned');
    git('config', 'filter.evil.clean', `touch ${marker}; cat`);
    await fs.writeFile(path.join(root, '.gitattributes'), '*.txt filter=evil\n');
    await fs.writeFile(path.join(root, 'src/a.txt'), 'changed\n');
    const { repositories } = await scanGitChanges(workspace, []);
    expect(repositories[0]!.files.map((file) => file.path)).toContain('src/a.txt');
    expect(existsSync(marker)).toBe(false);
    git('config', '--unset', 'filter.evil.clean');
    await fs.rm(path.join(root, '.gitattributes'));
    git('checkout', '-q', '--', 'src/a.txt');
  });

  it('restores a checkpoint: created files removed, changed and deleted ones back, ignored kept', async () => {
    await fs.mkdir(path.join(root, 'ignored'), { recursive: true });
    await fs.writeFile(path.join(root, 'ignored/cache.bin'), 'keep me');
    const checkpoint = await createCheckpoint(workspace, stateDir);
    expect(checkpoint.commit).toMatch(/^[0-9a-f]{40}$/);
    const userHead = git('rev-parse', 'HEAD');

    await fs.writeFile(path.join(root, 'src/a.txt'), 'rewritten\n');
    await fs.rm(path.join(root, '.gitignore'));
    await fs.mkdir(path.join(root, 'made/deep'), { recursive: true });
    await fs.writeFile(path.join(root, 'made/deep/new.txt'), 'agent made this');
    await fs.writeFile(path.join(root, 'ignored/cache.bin'), 'changed but ignored');
    await fs.writeFile(path.join(root, '.gitignore'), 'ignored/\n');
    await fs.rm(path.join(root, '.gitignore'));

    const restored = await restoreCheckpoint(workspace, stateDir, checkpoint.commit);
    expect(restored.removed).toEqual(['made/deep/new.txt']);
    expect(await fs.readFile(path.join(root, 'src/a.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(await fs.readFile(path.join(root, '.gitignore'), 'utf8')).toBe('ignored/\n');
    expect(existsSync(path.join(root, 'made'))).toBe(false);
    // The user's repository is untouched: same HEAD, clean status, no checkpoint refs.
    expect(git('rev-parse', 'HEAD')).toBe(userHead);
    expect(git('status', '--porcelain')).toBe('');
    expect(git('for-each-ref')).not.toContain('checkpoints');
    expect(existsSync(path.join(stateDir, 'checkpoints.git'))).toBe(true);
  });

  it('refuses a malformed or unknown commit', async () => {
    await expect(restoreCheckpoint(workspace, stateDir, 'HEAD')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(restoreCheckpoint(workspace, stateDir, 'a'.repeat(40))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
