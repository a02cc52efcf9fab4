import { z } from 'zod';

import { createCheckpoint, restoreCheckpoint } from './checkpoints.js';
import { scanGitChanges } from './git-changes.js';
import type {
  CreateCheckpointResponse,
  GitChangesResponse,
  RestoreCheckpointResponse,
} from './git-protocol.js';
import type { Workspace } from './paths.js';

/** Most touched paths one scan looks at. */
const MAX_TOUCHED_PATHS = 200;
/** At most one scan per second per workspace (issue #11): a burst gets the last answer. */
export const MIN_SCAN_INTERVAL_MS = 1_000;

export const gitChangesSchema = z.strictObject({
  paths: z.array(z.string().max(4096)).max(MAX_TOUCHED_PATHS),
});
export const createCheckpointSchema = z.strictObject({});
export const restoreCheckpointSchema = z.strictObject({
  commit: z.string(),
  keep: z.array(z.string()).max(10_000).optional(),
});

/**
 * The agent's git routes as plain functions of already-validated bodies, so any router (the
 * agent's HTTP server) wires them in a line each. Checkpoint work is serialised: a restore never
 * runs beside a snapshot of the same work tree.
 */
export function createGitHandlers(workspace: Workspace, stateDir: string) {
  let lastScan: { key: string; at: number; result: Promise<GitChangesResponse> } | null = null;
  let checkpointQueue: Promise<unknown> = Promise.resolve();
  const serialised = <T>(work: () => Promise<T>): Promise<T> => {
    const run = checkpointQueue.then(work, work);
    checkpointQueue = run.catch(() => undefined);
    return run;
  };

  return {
    changes(body: z.output<typeof gitChangesSchema>): Promise<GitChangesResponse> {
      const paths = [...new Set(body.paths)].sort();
      const key = JSON.stringify(paths);
      const now = Date.now();
      if (lastScan && lastScan.key === key && now - lastScan.at < MIN_SCAN_INTERVAL_MS) {
        return lastScan.result;
      }
      const result = scanGitChanges(workspace, paths);
      lastScan = { key, at: now, result };
      result.catch(() => {
        if (lastScan?.result === result) lastScan = null;
      });
      return result;
    },
    createCheckpoint(): Promise<CreateCheckpointResponse> {
      return serialised(() => createCheckpoint(workspace, stateDir));
    },
    restoreCheckpoint(
      body: z.output<typeof restoreCheckpointSchema>,
    ): Promise<RestoreCheckpointResponse> {
      // The next scan must see the restored files.
      lastScan = null;
      return serialised(() => restoreCheckpoint(workspace, stateDir, body.commit, body.keep));
    },
  };
}
