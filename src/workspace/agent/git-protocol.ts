/**
 * Wire types of the agent's git routes (issue #11), shared by the agent and its client:
 * POST /git/changes, POST /checkpoints/create, POST /checkpoints/restore.
 */

export type GitFileStatus =
  'ADDED' | 'MODIFIED' | 'DELETED' | 'RENAMED' | 'UNTRACKED' | 'CONFLICTED';

export interface GitFileChange {
  /** Relative to the repository's top level. */
  path: string;
  status: GitFileStatus;
  additions: number;
  deletions: number;
}

export interface GitRepositoryChanges {
  /** The repository's top level, relative to the workspace root ('.' for the root). */
  path: string;
  /** null when HEAD is detached. */
  branch: string | null;
  /** The origin remote's URL without credentials, or null. */
  origin: string | null;
  /** null before the first commit. */
  headCommit: string | null;
  files: GitFileChange[];
  /** Unified diff against HEAD, untracked files as additions; at most 1 MiB. */
  diff: string;
  truncated: boolean;
  /** Why the repository could not be scanned (its fields are then empty). */
  error?: string;
}

export interface GitChangesRequest {
  /** Paths the chat's tools touched (files or directories, relative to the workspace root). */
  paths: string[];
}

export interface GitChangesResponse {
  repositories: GitRepositoryChanges[];
  scannedAt: string;
}

export interface CreateCheckpointResponse {
  /** Commit id in the agent's checkpoint repository. */
  commit: string;
  files: number;
  /** Paths left out (nested repositories as "dir/", files over the size limit). */
  skipped: string[];
}

export interface RestoreCheckpointRequest {
  commit: string;
  /** Paths the checkpoint skipped: never removed by the restore. */
  keep?: string[];
}

export interface RestoreCheckpointResponse {
  /** Files written back from the checkpoint. */
  restored: number;
  /** Files removed because they did not exist at the checkpoint. */
  removed: string[];
}
