import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/**
 * Raw SQL of the daemon's ownership protocol (B9). A worker owns a chat while the chat row
 * carries its worker id and the lease epoch it got at acquire; every write of a turn checks both,
 * so a worker that lost the chat (stale recovery, an edit, a delete) writes nothing.
 * Statements use the database clock, so replicas with skewed clocks agree.
 */
export interface Lease {
  chatId: string;
  workerId: string;
  epoch: number;
}

export interface AcquiredChat extends Lease {
  interruptRequest: string | null;
}

/**
 * Claims up to `limit` PENDING chats in one short statement: FOR UPDATE SKIP LOCKED makes
 * concurrent acquirers take disjoint sets, and the statement commits at once (it is never held
 * open for the turn: Prisma ends interactive transactions after 5 s).
 */
export async function acquireChats(
  prisma: PrismaClient,
  workerId: string,
  limit: number,
): Promise<AcquiredChat[]> {
  if (limit <= 0) return [];
  const rows = await prisma.$queryRaw<
    { id: string; lease_epoch: number; interrupt_request: string | null }[]
  >`
    UPDATE chats
    SET status = 'RUNNING', worker_id = ${workerId}, lease_epoch = lease_epoch + 1,
        started_at = now(), heartbeat_at = now(), last_error = NULL, updated_at = now()
    WHERE id IN (
      SELECT id FROM chats
      WHERE status = 'PENDING' AND archived = false
      ORDER BY created_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING id::text AS id, lease_epoch, interrupt_request`;
  return rows.map((row) => ({
    chatId: row.id,
    workerId,
    epoch: row.lease_epoch,
    interruptRequest: row.interrupt_request,
  }));
}

/**
 * One statement heartbeats every chat this worker runs. Returns the chats still owned, with any
 * interrupt request; a lease missing from the result was lost and its turn must stop.
 */
export async function heartbeatChats(
  prisma: PrismaClient,
  workerId: string,
  leases: Lease[],
): Promise<Map<string, { interruptRequest: string | null }>> {
  if (leases.length === 0) return new Map();
  const ids = leases.map((lease) => lease.chatId);
  const epochs = leases.map((lease) => lease.epoch);
  const rows = await prisma.$queryRaw<{ id: string; interrupt_request: string | null }[]>`
    UPDATE chats SET heartbeat_at = now()
    WHERE worker_id = ${workerId}
      AND (id, lease_epoch) IN (
        SELECT * FROM unnest(${ids}::uuid[], ${epochs}::int[])
      )
    RETURNING id::text AS id, interrupt_request`;
  return new Map(rows.map((row) => [row.id, { interruptRequest: row.interrupt_request }]));
}

/**
 * RUNNING chats whose heartbeat is older than staleAfterMs go back to PENDING (or to PAUSED when
 * the user asked for a pause that no live worker carried out). Returns the recovered chats.
 */
export async function recoverStaleChats(prisma: PrismaClient, staleAfterMs: number) {
  return prisma.$queryRaw<{ id: string; owner_id: string; status: 'PENDING' | 'PAUSED' }[]>`
    UPDATE chats
    SET status = (CASE WHEN interrupt_request = 'PAUSE' THEN 'PAUSED' ELSE 'PENDING' END)::"ChatStatus",
        interrupt_request = CASE WHEN interrupt_request = 'NEXT' THEN 'NEXT' ELSE NULL END,
        worker_id = NULL, started_at = NULL, heartbeat_at = NULL, updated_at = now()
    WHERE status = 'RUNNING'
      AND (heartbeat_at IS NULL OR heartbeat_at < now() - ${staleAfterMs} * interval '1 millisecond')
    RETURNING id::text AS id, owner_id::text AS owner_id, status::text AS status`;
}

/** Reads the chat's ownership state (the control path: is this lease still ours?). */
export async function readLease(prisma: PrismaClient, lease: Lease) {
  const rows = await prisma.$queryRaw<{ owned: boolean; interrupt_request: string | null }[]>`
    SELECT (worker_id = ${lease.workerId} AND lease_epoch = ${lease.epoch}) AS owned,
           interrupt_request
    FROM chats WHERE id = ${lease.chatId}::uuid`;
  const row = rows[0];
  return row ? { owned: row.owned === true, interruptRequest: row.interrupt_request } : null;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(readonly chatId: string) {
    super(`Chat ${chatId} is no longer owned by this worker`);
  }
}

/**
 * Runs `work` in a transaction that first locks the chat row and checks the lease. Throws
 * LeaseLostError (and writes nothing) when the lease is gone.
 */
export async function withLease<T>(
  prisma: PrismaClient,
  lease: Lease,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM chats
      WHERE id = ${lease.chatId}::uuid AND worker_id = ${lease.workerId}
        AND lease_epoch = ${lease.epoch}
      FOR UPDATE`;
    if (rows.length === 0) throw new LeaseLostError(lease.chatId);
    return work(tx);
  });
}

/** Reserves a message id before the message exists, so streamed parts can name it (B13). */
export async function reserveMessageId(prisma: PrismaClient): Promise<bigint> {
  const rows = await prisma.$queryRaw<{ id: bigint }[]>`
    SELECT nextval(pg_get_serial_sequence('chat_messages', 'id')) AS id`;
  return BigInt(rows[0]!.id);
}

/**
 * Hands these leases' chats back to PENDING, each only while the lease is still the given one
 * (chats acquired by a tick that raced with shutdown, and not started).
 */
export async function releaseChats(prisma: PrismaClient, workerId: string, leases: Lease[]) {
  if (leases.length === 0) return [];
  const ids = leases.map((lease) => lease.chatId);
  const epochs = leases.map((lease) => lease.epoch);
  return prisma.$queryRaw<{ id: string; owner_id: string }[]>`
    UPDATE chats SET status = 'PENDING', worker_id = NULL, started_at = NULL,
                     heartbeat_at = NULL, updated_at = now()
    WHERE worker_id = ${workerId} AND status = 'RUNNING'
      AND (id, lease_epoch) IN (
        SELECT * FROM unnest(${ids}::uuid[], ${epochs}::int[])
      )
    RETURNING id::text AS id, owner_id::text AS owner_id`;
}

/** Shutdown fallback: whatever this worker still holds goes back to PENDING. */
export async function releaseWorkerChats(prisma: PrismaClient, workerId: string) {
  return prisma.$queryRaw<{ id: string; owner_id: string }[]>`
    UPDATE chats SET status = 'PENDING', worker_id = NULL, started_at = NULL,
                     heartbeat_at = NULL, updated_at = now()
    WHERE worker_id = ${workerId} AND status = 'RUNNING'
    RETURNING id::text AS id, owner_id::text AS owner_id`;
}
