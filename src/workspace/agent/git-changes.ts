import { promises as fs } from 'node:fs';
import path from 'node:path';

import { GitError, gitText, repositoryOverrides, runGit, splitNul } from './git.js';
import type { Workspace } from './paths.js';
import type {
  GitChangesResponse,
  GitFileChange,
  GitFileStatus,
  GitRepositoryChanges,
} from './git-protocol.js';

/**
 * The workspace's git changes, as the seeds' git watch shows them (issue #11): for the root (when
 * it is a repository) and every repository holding one of the `touched` paths, its branch, origin,
 * HEAD, changed files with line counts, and the unified diff against HEAD (untracked files as
 * additions), capped at MAX_DIFF_BYTES. Repositories outside the workspace are never looked at.
 */
export const MAX_DIFF_BYTES = 1024 * 1024;
/** Untracked files larger than this are listed without counting or diffing their lines. */
const MAX_COUNTED_FILE_BYTES = 1024 * 1024;
/** Repositories reported at most (touched paths in many nested repositories). */
const MAX_REPOSITORIES = 20;
/** git's well-known id of the empty tree: the diff base of a repository without commits. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export async function scanGitChanges(
  workspace: Workspace,
  touched: string[],
): Promise<GitChangesResponse> {
  const toplevels = new Set<string>();
  for (const candidate of ['.', ...touched]) {
    const toplevel = await repositoryOf(workspace, candidate);
    if (toplevel) toplevels.add(toplevel);
    if (toplevels.size >= MAX_REPOSITORIES) break;
  }
  const repositories: GitRepositoryChanges[] = [];
  for (const toplevel of [...toplevels].sort()) {
    repositories.push(await scanRepository(workspace, toplevel));
  }
  return { repositories, scannedAt: new Date().toISOString() };
}

/** The repository (its real top-level directory) holding `requested`, if inside the workspace. */
async function repositoryOf(workspace: Workspace, requested: string): Promise<string | null> {
  let dir: string;
  try {
    dir = await workspace.resolve(requested);
  } catch {
    return null; // outside the workspace: not ours to scan
  }
  // The nearest existing directory (a touched file may be gone).
  for (;;) {
    const stats = await fs.stat(dir).catch(() => null);
    if (stats?.isDirectory()) break;
    if (dir === workspace.root) return null;
    dir = path.dirname(dir);
  }
  try {
    const toplevel = (
      await gitText(['rev-parse', '--show-toplevel'], {
        cwd: dir,
        // Discovery stops at the workspace: a directory above it (the server's own checkout)
        // is never taken for the workspace's repository.
        env: { GIT_CEILING_DIRECTORIES: path.dirname(workspace.root) },
      })
    ).trim();
    const real = await fs.realpath(toplevel);
    return real === workspace.root || real.startsWith(workspace.root + path.sep) ? real : null;
  } catch {
    return null;
  }
}

async function scanRepository(
  workspace: Workspace,
  toplevel: string,
): Promise<GitRepositoryChanges> {
  const relative = path.relative(workspace.root, toplevel) || '.';
  const base = {
    path: relative,
    branch: null,
    origin: null,
    headCommit: null,
    files: [],
    diff: '',
    truncated: false,
  };
  const env = { GIT_CEILING_DIRECTORIES: path.dirname(workspace.root) };
  let gitDir: string;
  try {
    gitDir = (await gitText(['rev-parse', '--absolute-git-dir'], { cwd: toplevel, env })).trim();
  } catch (error) {
    return { ...base, error: errorText(error) };
  }
  const overrides = await repositoryOverrides(gitDir);
  if (overrides === null) {
    return { ...base, error: 'The repository config uses include directives; not scanned' };
  }
  const git = (args: string[], extra: { maxOutputBytes?: number; okExitCodes?: number[] } = {}) =>
    runGit(args, { cwd: toplevel, env, config: overrides, ...extra });
  try {
    const head = (await git(['rev-parse', '--verify', '-q', 'HEAD'], { okExitCodes: [1] })).stdout
      .toString()
      .trim();
    const branch = (
      await git(['symbolic-ref', '--short', '-q', 'HEAD'], { okExitCodes: [1] })
    ).stdout
      .toString()
      .trim();
    const origin = await git(['remote', 'get-url', 'origin'])
      .then((result) => withoutCredentials(result.stdout.toString().trim()))
      .catch(() => null);
    const diffBase = head || EMPTY_TREE;
    const status = parseStatus(
      (await git(['status', '--porcelain=v1', '-z', '--untracked-files=all'])).stdout,
    );
    const counts = parseNumstat(
      (
        await git([
          'diff',
          diffBase,
          '--numstat',
          '-z',
          '--no-renames',
          '--no-ext-diff',
          '--no-textconv',
        ])
      ).stdout,
    );
    const files: GitFileChange[] = [];
    for (const [file, fileStatus] of status) {
      const counted = counts.get(file);
      if (counted) files.push({ path: file, status: fileStatus, ...counted });
      else if (fileStatus === 'UNTRACKED') {
        files.push({ path: file, status: fileStatus, ...(await countLines(toplevel, file)) });
      } else files.push({ path: file, status: fileStatus, additions: 0, deletions: 0 });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

    const tracked = await git(
      ['diff', diffBase, '--no-ext-diff', '--no-textconv', '--no-color', '--no-renames'],
      { maxOutputBytes: MAX_DIFF_BYTES + 1 },
    );
    let diff = tracked.stdout.toString('utf8');
    let truncated = tracked.truncated || Buffer.byteLength(diff) > MAX_DIFF_BYTES;
    for (const file of files) {
      if (truncated) break;
      if (file.status !== 'UNTRACKED') continue;
      const room = MAX_DIFF_BYTES - Buffer.byteLength(diff);
      const added = await git(
        [
          'diff',
          '--no-index',
          '--no-ext-diff',
          '--no-textconv',
          '--no-color',
          '--',
          '/dev/null',
          file.path,
        ],
        { okExitCodes: [1], maxOutputBytes: room + 1 },
      );
      diff += added.stdout.toString('utf8');
      truncated = added.truncated || Buffer.byteLength(diff) > MAX_DIFF_BYTES;
    }
    if (truncated) diff = cutToBytes(diff, MAX_DIFF_BYTES);
    return {
      ...base,
      branch: branch || null,
      origin,
      headCommit: head || null,
      files,
      diff,
      truncated,
    };
  } catch (error) {
    return { ...base, error: errorText(error) };
  }
}

function parseStatus(output: Buffer): Map<string, GitFileStatus> {
  const entries = splitNul(output);
  const files = new Map<string, GitFileStatus>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    const code = entry.slice(0, 2);
    const file = entry.slice(3);
    if (code.includes('R') || code.includes('C')) index++; // the original path follows
    files.set(file, statusOf(code));
  }
  return files;
}

function statusOf(code: string): GitFileStatus {
  if (code === '??') return 'UNTRACKED';
  if (code.includes('U') || code === 'AA' || code === 'DD') return 'CONFLICTED';
  if (code.includes('D')) return 'DELETED';
  if (code.includes('A')) return 'ADDED';
  if (code.includes('R')) return 'RENAMED';
  return 'MODIFIED';
}

function parseNumstat(output: Buffer): Map<string, { additions: number; deletions: number }> {
  const counts = new Map<string, { additions: number; deletions: number }>();
  for (const entry of splitNul(output)) {
    const [added, deleted, ...rest] = entry.split('\t');
    const file = rest.join('\t');
    // Binary files read "-\t-": no lines to count.
    counts.set(file, {
      additions: Number(added) || 0,
      deletions: Number(deleted) || 0,
    });
  }
  return counts;
}

async function countLines(toplevel: string, file: string) {
  const full = path.join(toplevel, file);
  const stats = await fs.lstat(full).catch(() => null);
  if (!stats?.isFile() || stats.size > MAX_COUNTED_FILE_BYTES)
    return { additions: 0, deletions: 0 };
  const content = await fs.readFile(full);
  if (content.includes(0)) return { additions: 0, deletions: 0 }; // binary
  const text = content.toString('utf8');
  const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return { additions: lines, deletions: 0 };
}

/** An origin URL without the user:password a clone URL may carry. */
function withoutCredentials(url: string): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url; // scp-like (git@host:repo) or a path: nothing secret in its syntax
  }
}

function cutToBytes(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= maxBytes) return text;
  // Drop a character cut in half at the end (U+FFFD from the decoder).
  return buffer
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

function errorText(error: unknown): string {
  return error instanceof GitError ? error.message : 'git failed';
}
