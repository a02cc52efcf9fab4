import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AgentRequestError, errnoCode, fsRequestError } from './errors.js';

/** Same bound the kernel uses (Linux MAXSYMLINKS) before it answers ELOOP. */
const MAX_SYMLINK_HOPS = 40;

/**
 * Keeps every path a request names inside one workspace root. The check is made on the real path
 * (symlinks resolved), because a lexical check would let `link -> /etc` inside the root read or
 * write outside it; callers then use the real path returned here, never the one they were given.
 *
 * A process in the workspace could still swap a directory for a symlink between this check and the
 * fs call that follows (the usual time-of-check race); the agent serves a workspace to the same
 * principal that runs commands in it, so this guards against mistakes, not against that principal.
 */
export class Workspace {
  private constructor(readonly root: string) {}

  /** `root` must be an existing directory; it is stored as its real path. */
  static async open(root: string): Promise<Workspace> {
    const real = await fs.realpath(path.resolve(root));
    const stats = await fs.stat(real);
    if (!stats.isDirectory()) throw new Error(`Workspace root is not a directory: ${real}`);
    return new Workspace(real);
  }

  /**
   * Real absolute path of `requested` (relative to the root, or absolute). For a path that does not
   * exist yet the nearest existing ancestor is resolved and the rest appended, so writes are checked
   * too. Throws PATH_OUTSIDE_WORKSPACE when the result is outside the root.
   */
  async resolve(requested: string): Promise<string> {
    if (requested.includes('\0')) throw new AgentRequestError('BAD_REQUEST', 'Path contains NUL');
    const absolute = path.resolve(this.root, requested);
    let real: string;
    try {
      real = await resolveReal(absolute, 0);
    } catch (error) {
      fsRequestError(error, requested);
    }
    if (!this.contains(real)) {
      throw new AgentRequestError(
        'PATH_OUTSIDE_WORKSPACE',
        `Path is outside the workspace: ${requested}`,
      );
    }
    return real;
  }

  /** Path to show back to the caller: relative to the root ('.' for the root itself). */
  display(real: string): string {
    return path.relative(this.root, real) || '.';
  }

  private contains(real: string): boolean {
    return (
      real === this.root ||
      real.startsWith(this.root.endsWith(path.sep) ? this.root : this.root + path.sep)
    );
  }
}

/** Like fs.realpath, but also for paths whose tail does not exist (yet). */
async function resolveReal(absolute: string, hops: number): Promise<string> {
  try {
    return await fs.realpath(absolute);
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
  // A dangling symlink must be followed by hand: treating it as a missing file would let a write
  // through `link -> /outside/new-file` create that file outside the workspace.
  const stats = await fs.lstat(absolute).catch(() => undefined);
  if (stats?.isSymbolicLink()) {
    if (hops >= MAX_SYMLINK_HOPS) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    const target = await fs.readlink(absolute);
    return resolveReal(path.resolve(path.dirname(absolute), target), hops + 1);
  }
  const parent = path.dirname(absolute);
  if (parent === absolute) return absolute;
  return path.join(await resolveReal(parent, hops), path.basename(absolute));
}
