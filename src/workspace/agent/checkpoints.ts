import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AgentRequestError } from './errors.js';
import { gitText, runGit, splitNul } from './git.js';
import type { Workspace } from './paths.js';
import type { CreateCheckpointResponse, RestoreCheckpointResponse } from './git-protocol.js';

/**
 * Checkpoints of a workspace's files (issue #11), kept in a git directory of the agent's own, in
 * its state directory outside the workspace: `GIT_DIR=<state>/checkpoints.git` over the workspace
 * as work tree, with a throwaway index per call. The user's repositories (their .git, index,
 * branches) are never touched, and the command sandbox never sees the checkpoint directory.
 *
 * What a checkpoint holds: every file of the workspace except
 * - paths the workspace's .gitignore files ignore (dependencies, build output),
 * - the contents of git repositories nested below the root (their .git belongs to the user; the
 *   root's own .git directory is always left out),
 * - files larger than MAX_CHECKPOINT_FILE_BYTES.
 * Those are reported as `skipped`; restoring never creates, changes or removes them.
 */
export const MAX_CHECKPOINT_FILE_BYTES = 10 * 1024 * 1024;
const CHECKPOINT_DIR = 'checkpoints.git';
const COMMIT_ID = /^[0-9a-f]{40}$/;
const IDENTITY = {
  GIT_AUTHOR_NAME: 'agentgraph',
  GIT_AUTHOR_EMAIL: 'agentgraph@localhost',
  GIT_COMMITTER_NAME: 'agentgraph',
  GIT_COMMITTER_EMAIL: 'agentgraph@localhost',
};

interface Store {
  root: string;
  gitDir: string;
}

export async function createCheckpoint(
  workspace: Workspace,
  stateDir: string,
): Promise<CreateCheckpointResponse> {
  const store = await openStore(workspace, stateDir);
  return withIndex(store, async (env) => {
    const { files, skipped } = await listFiles(store, env);
    await runGit(['update-index', '--add', '-z', '--stdin'], {
      cwd: store.root,
      env,
      input: files.map((file) => `${file}\0`).join(''),
    });
    const tree = (await gitText(['write-tree'], { cwd: store.root, env })).trim();
    const commit = (
      await gitText(['commit-tree', tree, '-m', 'checkpoint'], {
        cwd: store.root,
        env: { ...env, ...IDENTITY },
      })
    ).trim();
    // A ref keeps the commit from any future gc.
    await runGit(['update-ref', `refs/checkpoints/${commit}`, commit], { cwd: store.root, env });
    return { commit, files: files.length, skipped };
  });
}

/**
 * Puts the workspace's files back as they were at `commit`: files created since are removed,
 * changed and deleted ones come back. `keep` are paths the checkpoint skipped (never removed).
 */
export async function restoreCheckpoint(
  workspace: Workspace,
  stateDir: string,
  commit: string,
  keep: string[] = [],
): Promise<RestoreCheckpointResponse> {
  if (!COMMIT_ID.test(commit)) {
    throw new AgentRequestError('BAD_REQUEST', 'commit must be a 40-character commit id');
  }
  const store = await openStore(workspace, stateDir);
  return withIndex(store, async (env) => {
    const exists = await runGit(['cat-file', '-e', `${commit}^{commit}`], {
      cwd: store.root,
      env,
    }).then(
      () => true,
      () => false,
    );
    if (!exists) throw new AgentRequestError('NOT_FOUND', `No checkpoint ${commit}`);
    // The checkpoint's files first: its .gitignore files are then the rules that decide which of
    // today's files are the agent's to remove (a deleted .gitignore must not expose ignored files).
    await runGit(['read-tree', commit], { cwd: store.root, env });
    await runGit(['checkout-index', '--all', '--force'], { cwd: store.root, env });
    const restored = splitNul(
      (await runGit(['ls-files', '-z'], { cwd: store.root, env })).stdout,
    ).length;
    const kept = new Set(keep);
    const removed: string[] = [];
    // With the checkpoint as index, "others" are exactly the files it did not have.
    const { files: created } = await listFiles(store, env);
    for (const file of created) {
      if (kept.has(file)) continue;
      // The parent is resolved (never outside the workspace); the entry itself is not followed,
      // so a symlink the agent created is removed, not what it points to.
      const full = path.join(await workspace.resolve(path.dirname(file)), path.basename(file));
      await fs.rm(full, { force: true });
      await removeEmptyParents(store.root, path.dirname(full));
      removed.push(file);
    }
    return { restored, removed };
  });
}

async function openStore(workspace: Workspace, stateDir: string): Promise<Store> {
  const gitDir = path.join(path.resolve(stateDir), CHECKPOINT_DIR);
  const root = workspace.root;
  if (gitDir === root || gitDir.startsWith(root + path.sep)) {
    throw new Error('The checkpoint directory must be outside the workspace');
  }
  const initialised = await fs.stat(path.join(gitDir, 'HEAD')).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    await fs.mkdir(gitDir, { recursive: true });
    await runGit(['init', '--bare', '-q', gitDir], { cwd: gitDir });
    await runGit(['config', 'core.bare', 'false'], { cwd: gitDir, env: { GIT_DIR: gitDir } });
  }
  return { root, gitDir };
}

/** Runs `work` with a fresh, empty index of its own (removed afterwards). */
async function withIndex<T>(
  store: Store,
  work: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const index = path.join(store.gitDir, `index-${randomBytes(6).toString('hex')}`);
  const env = { GIT_DIR: store.gitDir, GIT_WORK_TREE: store.root, GIT_INDEX_FILE: index };
  try {
    await runGit(['read-tree', '--empty'], { cwd: store.root, env });
    return await work(env);
  } finally {
    await fs.rm(index, { force: true });
    await fs.rm(`${index}.lock`, { force: true });
  }
}

/**
 * The files a checkpoint covers, and what it skips (module comment): with an empty index all of
 * them; with a checkpoint's tree as index, those it did not have.
 */
async function listFiles(
  store: Store,
  env: Record<string, string>,
): Promise<{ files: string[]; skipped: string[] }> {
  // "Others" are files not in the index that .gitignore does not ignore; a nested repository
  // shows as its directory ("sub/").
  const listed = splitNul(
    (
      await runGit(['ls-files', '-z', '--others', '--exclude-standard'], {
        cwd: store.root,
        env,
      })
    ).stdout,
  );
  const files: string[] = [];
  const skipped: string[] = [];
  for (const entry of listed) {
    if (entry.endsWith('/')) {
      skipped.push(entry);
      continue;
    }
    const stats = await fs.lstat(path.join(store.root, entry)).catch(() => null);
    if (!stats) continue; // gone since listed
    if (stats.isFile() && stats.size > MAX_CHECKPOINT_FILE_BYTES) skipped.push(entry);
    else files.push(entry);
  }
  return { files, skipped };
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  while (dir !== root && dir.startsWith(root + path.sep)) {
    const entries = await fs.readdir(dir).catch(() => null);
    if (!entries || entries.length > 0) return;
    await fs.rmdir(dir).catch(() => undefined);
    dir = path.dirname(dir);
  }
}
