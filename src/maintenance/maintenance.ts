import type { Deps } from '../deps.js';
import type { PrismaClient } from '../db/client.js';
import { createChatEvents } from '../chats/events.js';
import { readDeploymentSettings } from '../settings/deployment.js';
import type { WorkspaceManager } from '../workspace/service.js';
import { archiveInactiveBatch } from './auto-archive.js';
import { purgeDeletedBatch } from './retention.js';
import { stopIdleWorkspaces } from './workspace-ttl.js';

/**
 * Periodic housekeeping driven by the deployment settings (issue #13): auto-archive, retention
 * and the workspace TTL. Every replica runs it; the database decides who does what:
 * - archive and purge batches each run in a short transaction that first takes a transaction
 *   advisory lock, so one replica at a time works on them (another replica skips that round);
 * - stopping idle workspaces is a conditional UPDATE (whoever matches first stops it), and then
 *   each replica ends the agents it runs itself whose workspace is now STOPPED, because an
 *   embedded agent lives in the process that started it.
 * Tests call runOnce() instead of waiting for the interval.
 */
export interface MaintenanceOptions {
  /** Default 60 000 ms. */
  intervalMs?: number;
  /** Rows per statement. Default 100. */
  batchSize?: number;
}

export interface MaintenanceReport {
  archivedChats: number;
  purgedChats: number;
  stoppedWorkspaces: number;
  /** True when another replica held the lock, so this one archived and purged nothing. */
  lockedElsewhere: boolean;
}

export interface Maintenance {
  runOnce(): Promise<MaintenanceReport>;
  start(): void;
  /** Stops the timer and waits for a run in progress. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_BATCH_SIZE = 100;
/** Upper bound on batches per run, so one run cannot hold a replica for long. */
const MAX_BATCHES_PER_RUN = 50;
/** pg advisory lock key of the archive and purge jobs ('agmt'). */
export const MAINTENANCE_LOCK_KEY = 0x61676d74;

export function createMaintenance(
  deps: Pick<Deps, 'prisma' | 'pubsub' | 'logger'>,
  workspaces: Pick<WorkspaceManager, 'stopWorkspace' | 'embeddedWorkspaceIds'>,
  options: MaintenanceOptions = {},
): Maintenance {
  const { prisma, logger } = deps;
  const events = createChatEvents(deps);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<MaintenanceReport> | undefined;

  /** Runs `work` under the advisory lock; null when another replica holds it. */
  function underLock<T>(work: (tx: PrismaClient) => Promise<T>): Promise<T | null> {
    return prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(${MAINTENANCE_LOCK_KEY}::bigint) AS locked`;
      return row?.locked ? work(tx as unknown as PrismaClient) : null;
    });
  }

  /**
   * Runs batches until one comes back short; `locked` when another replica held the lock.
   * `afterCommit` sees each batch's rows once its transaction committed.
   */
  async function inBatches<T>(
    batch: (tx: PrismaClient) => Promise<T[]>,
    afterCommit: (rows: T[]) => Promise<void> = async () => {},
  ) {
    let total = 0;
    for (let round = 0; round < MAX_BATCHES_PER_RUN; round++) {
      const rows = await underLock(batch);
      if (rows === null) return { total, locked: true };
      await afterCommit(rows);
      total += rows.length;
      if (rows.length < batchSize) break;
    }
    return { total, locked: false };
  }

  /** Archives inactive families; their owners' clients get the usual list event per chat. */
  function archive(days: number) {
    return inBatches(
      (tx) => archiveInactiveBatch(tx, days, batchSize),
      async (archived) => {
        for (const chat of archived) {
          await events
            .list(chat.ownerId, 'UPDATED', chat.id)
            .catch((error: unknown) => logger.warn('archive event failed', { error }));
        }
      },
    );
  }

  async function stopIdle(minutes: number | null): Promise<number> {
    const stopped = minutes === null ? [] : await stopIdleWorkspaces(prisma, minutes, batchSize);
    const local = workspaces.embeddedWorkspaceIds();
    const stoppedHere =
      local.length === 0
        ? []
        : await prisma.workspace.findMany({
            where: { id: { in: local }, status: 'STOPPED' },
            select: { id: true },
          });
    for (const { id } of stoppedHere) {
      await workspaces
        .stopWorkspace(id)
        .catch((error: unknown) => logger.warn('stopping an idle workspace failed', { error }));
    }
    if (stopped.length > 0) logger.info('idle workspaces stopped', { count: stopped.length });
    return stopped.length;
  }

  async function run(): Promise<MaintenanceReport> {
    const settings = await readDeploymentSettings(prisma);
    const report: MaintenanceReport = {
      archivedChats: 0,
      purgedChats: 0,
      stoppedWorkspaces: 0,
      lockedElsewhere: false,
    };
    if (settings.autoArchiveDays !== null) {
      const { total, locked } = await archive(settings.autoArchiveDays);
      report.archivedChats = total;
      report.lockedElsewhere ||= locked;
    }
    if (settings.retentionDays !== null) {
      const days = settings.retentionDays;
      const { total, locked } = await inBatches((tx) => purgeDeletedBatch(tx, days, batchSize));
      report.purgedChats = total;
      report.lockedElsewhere ||= locked;
    }
    report.stoppedWorkspaces = await stopIdle(settings.workspaceTtlMinutes);
    return report;
  }

  function runOnce(): Promise<MaintenanceReport> {
    // Overlapping calls (the timer and a test) share one run.
    running ??= run().finally(() => (running = undefined));
    return running;
  }

  return {
    runOnce,
    start() {
      timer ??= setInterval(() => {
        runOnce().catch((error: unknown) => logger.error('maintenance failed', { error }));
      }, options.intervalMs ?? DEFAULT_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
