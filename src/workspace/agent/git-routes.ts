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
/** At most one scan per second per workspace (issue #11). */
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
  // Scans start at least MIN_SCAN_INTERVAL_MS apart; a request for the same paths while one is
  // waiting or running shares it. A later scan is delayed, never answered with an older one.
  let lastScanAt = 0;
  let upcoming: { key: string; result: Promise<GitChangesResponse> } | null = null;
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
      if (upcoming && upcoming.key === key) return upcoming.result;
      const delay = Math.max(0, lastScanAt + MIN_SCAN_INTERVAL_MS - Date.now());
      lastScanAt = Date.now() + delay;
      const result = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => {
        if (upcoming?.result === result) upcoming = null; // running: a new request scans again
        return scanGitChanges(workspace, paths);
      });
      upcoming = { key, result };
      return result;
    },
    createCheckpoint(): Promise<CreateCheckpointResponse> {
      return serialised(() => createCheckpoint(workspace, stateDir));
    },
    restoreCheckpoint(
      body: z.output<typeof restoreCheckpointSchema>,
    ): Promise<RestoreCheckpointResponse> {
      return serialised(() => restoreCheckpoint(workspace, stateDir, body.commit, body.keep));
    },
  };
}
