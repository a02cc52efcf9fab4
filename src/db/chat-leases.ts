import { Prisma, type ChatMessage, type PrismaClient } from '../generated/prisma/client.js';
import type { TokenUsage } from '../llm/types.js';
import { FAIR_SHARE_ORDER, RANKED_PENDING_CTE, UNDER_CAP } from './fair-share.js';
import type { Sql } from './sql.js';

/**
 * Raw SQL of the daemon's ownership protocol (B9). A worker owns a chat while the chat row
 * carries its worker id and the lease epoch it got at acquire; every write of a turn checks both,
 * so a worker that lost the chat (stale recovery, an edit, a delete) writes nothing.
 * Statements use the database clock, so replicas with skewed clocks agree. They run on the
 * driver (Sql), not through Prisma: they are every turn's statements (issue #9); only withLease,
 * the transaction of the rare transitions, uses Prisma's, for the shared writes of transitions.ts.
 */
export interface Lease {
  chatId: string;
  workerId: string;
  epoch: number;
}

/** What a turn needs of its chat row; acquire returns it, so the turn does not read it again. */
export interface AcquiredChatRow {
  id: string;
  ownerId: string;
  mode: 'DEFAULT' | 'PLAN';
  modelConfigId: string | null;
  parentId: string | null;
  rootId: string | null;
  workspaceId: string | null;
  /** An explore subagent: offered only the explore tools (spawn_explore_agent). */
  explore: boolean;
}

export interface AcquiredChat extends Lease {
  interruptRequest: string | null;
  chat: AcquiredChatRow;
  /**
   * A message id drawn at acquire for the turn's first step (one statement fewer per turn).
   * Only valid while nothing else is inserted into the chat first: a turn that inserts the
   * queue head (interrupt NEXT) draws a new one, so ids stay in conversation order.
   */
  firstMessageId: bigint;
}

/**
 * Claims up to `limit` PENDING chats in one short statement, in fair-share order under the
 * per-user cap (src/db/fair-share.ts): FOR UPDATE SKIP LOCKED makes
 * concurrent acquirers take disjoint sets, and the statement commits at once (it is never held
 * open for the turn: Prisma ends interactive transactions after 5 s).
 */
export async function acquireChats(
  sql: Sql,
  workerId: string,
  limit: number,
): Promise<AcquiredChat[]> {
  if (limit <= 0) return [];
  const rows = await sql.query<
    Omit<AcquiredChatRow, 'mode'> & {
      mode: string;
      leaseEpoch: number;
      interruptRequest: string | null;
      firstMessageId: bigint;
    }
  >`
    UPDATE chats
    SET status = 'RUNNING', worker_id = ${workerId}, lease_epoch = lease_epoch + 1,
        started_at = now(), heartbeat_at = now(), last_error = NULL, updated_at = now()
    WHERE id IN (
      WITH ${RANKED_PENDING_CTE}
      SELECT c.id FROM chats c JOIN ranked ON ranked.id = c.id
      WHERE c.status = 'PENDING' AND c.archived = false AND ${UNDER_CAP}
      ORDER BY ${FAIR_SHARE_ORDER}
      LIMIT ${limit}
      FOR UPDATE OF c SKIP LOCKED
    )
    RETURNING id::text AS id, lease_epoch AS "leaseEpoch", interrupt_request AS "interruptRequest",
              owner_id::text AS "ownerId", mode::text AS mode,
              model_config_id::text AS "modelConfigId", parent_id::text AS "parentId",
              root_id::text AS "rootId", workspace_id::text AS "workspaceId", explore,
              nextval(pg_get_serial_sequence('chat_messages', 'id')) AS "firstMessageId"`;
  return rows.map(({ leaseEpoch, interruptRequest, firstMessageId, ...chat }) => ({
    chatId: chat.id,
    workerId,
    epoch: leaseEpoch,
    interruptRequest,
    chat: { ...chat, mode: chat.mode === 'PLAN' ? 'PLAN' : 'DEFAULT' },
    firstMessageId,
  }));
}

/**
 * One statement heartbeats every chat this worker runs. Returns the chats still owned, with any
 * interrupt request; a lease missing from the result was lost and its turn must stop.
 */
export async function heartbeatChats(
  sql: Sql,
  workerId: string,
  leases: Lease[],
): Promise<Map<string, { interruptRequest: string | null }>> {
  if (leases.length === 0) return new Map();
  const ids = leases.map((lease) => lease.chatId);
  const epochs = leases.map((lease) => lease.epoch);
  const rows = await sql.query<{ id: string; interrupt_request: string | null }>`
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
export async function recoverStaleChats(sql: Sql, staleAfterMs: number) {
  return sql.query<{ id: string; owner_id: string; status: 'PENDING' | 'PAUSED' }>`
    UPDATE chats
    SET status = (CASE WHEN interrupt_request = 'PAUSE' THEN 'PAUSED' ELSE 'PENDING' END)::"ChatStatus",
        interrupt_request = CASE WHEN interrupt_request = 'NEXT' THEN 'NEXT' ELSE NULL END,
        worker_id = NULL, started_at = NULL, heartbeat_at = NULL, updated_at = now()
    WHERE status = 'RUNNING'
      AND (heartbeat_at IS NULL OR heartbeat_at < now() - ${staleAfterMs} * interval '1 millisecond')
    RETURNING id::text AS id, owner_id::text AS owner_id, status::text AS status`;
}

/** Reads the chat's ownership state (the control path: is this lease still ours?). */
export async function readLease(sql: Sql, lease: Lease) {
  const rows = await sql.query<{ owned: boolean; interrupt_request: string | null }>`
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

/** The chat row as locked by withLease: what the end-of-turn transition decides on. */
export interface LockedChat {
  interruptRequest: string | null;
  archived: boolean;
}

/**
 * Runs `work` in a transaction that first locks the chat row and checks the lease. Throws
 * LeaseLostError (and writes nothing) when the lease is gone. Statements after the lock see
 * every transaction that held the row before (READ COMMITTED takes a snapshot per statement),
 * which is why a check of another table (the queue) comes after it, never in the same statement
 * (endTurnWaiting's one statement reads the queue through a VOLATILE function for that reason).
 */
export async function withLease<T>(
  prisma: PrismaClient,
  lease: Lease,
  work: (tx: Prisma.TransactionClient, chat: LockedChat) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<LockedChat[]>`
      SELECT interrupt_request AS "interruptRequest", archived FROM chats
      WHERE id = ${lease.chatId}::uuid AND worker_id = ${lease.workerId}
        AND lease_epoch = ${lease.epoch}
      FOR UPDATE`;
    if (rows.length === 0) throw new LeaseLostError(lease.chatId);
    return work(tx, rows[0]!);
  });
}

/** The chat as a turn that ended WAITING leaves it. */
export interface WaitingChat {
  id: string;
  ownerId: string;
  title: string;
  status: 'WAITING';
  lastError: null;
}

/**
 * The common end of a turn in ONE statement, where withLease takes four (BEGIN, lock, update,
 * COMMIT): RUNNING → WAITING while the lease is ours, no pause was asked for and nothing is
 * queued (or the chat is archived: its queue waits for the user). Null when any of that fails:
 * the caller then runs the full transition (withLease), which decides on the locked row.
 *
 * The queue must be read after the row lock, as withLease does: a sendMessage that held the lock
 * and queued a message commits before this statement gets the row, but a subquery would read
 * the queue as of the statement's start (READ COMMITTED's per-statement snapshot, which a lock
 * wait does not renew when the other transaction only locked the row) and strand the message in
 * a WAITING chat. So the `locked` CTE takes the lock, and chat_has_queued_messages (migration
 * 0010), a VOLATILE function, which Postgres runs with a fresh snapshot, reads the queue from
 * its row only: it runs once the lock is held and sees every message queued before.
 */
export async function endTurnWaiting(sql: Sql, lease: Lease): Promise<WaitingChat | null> {
  const rows = await sql.query<WaitingChat>`
    WITH locked AS MATERIALIZED (
      SELECT id, archived FROM chats
      WHERE id = ${lease.chatId}::uuid AND worker_id = ${lease.workerId}
        AND lease_epoch = ${lease.epoch} AND interrupt_request IS DISTINCT FROM 'PAUSE'
      FOR UPDATE
    )
    UPDATE chats
    SET status = 'WAITING', worker_id = NULL, started_at = NULL, heartbeat_at = NULL,
        interrupt_request = NULL, last_error = NULL, last_activity_at = now(), updated_at = now()
    FROM locked
    WHERE chats.id = locked.id AND (locked.archived OR NOT chat_has_queued_messages(locked.id))
    RETURNING chats.id::text AS id, chats.owner_id::text AS "ownerId", chats.title,
              chats.status::text AS status, chats.last_error AS "lastError"`;
  return rows[0] ?? null;
}

/** Reserves a message id before the message exists, so streamed parts can name it (B13). */
export async function reserveMessageId(sql: Sql): Promise<bigint> {
  const [id] = await reserveMessageIds(sql, 1);
  return id!;
}

/** Reserves `count` message ids, ascending, in one statement (a step's tool results). */
export async function reserveMessageIds(sql: Sql, count: number): Promise<bigint[]> {
  if (count <= 0) return [];
  const rows = await sql.query<{ id: bigint }>`
    SELECT nextval(pg_get_serial_sequence('chat_messages', 'id')) AS id
    FROM generate_series(1, ${count}::int)`;
  return rows.map((row) => row.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A message a turn writes (assistant step, tool result, compaction summary). */
export interface NewTurnMessage extends TokenUsage {
  id: bigint;
  role: 'ASSISTANT' | 'TOOL' | 'SYSTEM';
  /** Serialised parts (jsonb). */
  partsJson: string;
  contentVersion: number;
  modelConfigId: string | null;
  costMicros: number;
  isSummary: boolean;
}

/**
 * Inserts a turn's messages and bumps the chat's activity in ONE statement, fenced by the lease:
 * the UPDATE locks the chat row and matches only while worker id and lease epoch are ours, and
 * the INSERT takes its chat id from the UPDATE's result, so a lost lease inserts nothing
 * (LeaseLostError). It replaces BEGIN, lock, insert, update, COMMIT: the hot path of every step.
 */
export async function insertMessagesUnderLease(
  sql: Sql,
  lease: Lease,
  messages: NewTurnMessage[],
): Promise<ChatMessage[]> {
  if (messages.length === 0) return [];
  const column = <K extends keyof NewTurnMessage>(key: K) => messages.map((m) => m[key]);
  const rows = await sql.query<ChatMessage>`
    WITH owned AS (
      UPDATE chats SET last_activity_at = now(), updated_at = now()
      WHERE id = ${lease.chatId}::uuid AND worker_id = ${lease.workerId}
        AND lease_epoch = ${lease.epoch}
      RETURNING id
    )
    INSERT INTO chat_messages (id, chat_id, role, parts, content_version, model_config_id,
                               input_tokens, output_tokens, reasoning_tokens, cache_read_tokens,
                               cache_write_tokens, cost_micros, is_summary)
    SELECT m.id, owned.id, m.role::"MessageRole", m.parts::jsonb, m.content_version,
           NULLIF(m.model_config_id, '')::uuid, m.input_tokens, m.output_tokens, m.reasoning_tokens,
           m.cache_read_tokens, m.cache_write_tokens, m.cost_micros, m.is_summary
    FROM owned, unnest(
      ${column('id').map(String)}::bigint[], ${column('role')}::text[],
      ${column('partsJson')}::text[], ${column('contentVersion')}::int[],
      ${column('modelConfigId').map((id) => id ?? '')}::text[],
      ${column('inputTokens')}::int[], ${column('outputTokens')}::int[],
      ${column('reasoningTokens')}::int[], ${column('cacheReadTokens')}::int[],
      ${column('cacheWriteTokens')}::int[], ${column('costMicros')}::float8[],
      ${column('isSummary')}::boolean[]
    ) AS m(id, role, parts, content_version, model_config_id, input_tokens, output_tokens,
           reasoning_tokens, cache_read_tokens, cache_write_tokens, cost_micros, is_summary)
    ORDER BY m.id
    RETURNING ${CHAT_MESSAGE_COLUMNS}`;
  if (rows.length === 0) throw new LeaseLostError(lease.chatId);
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A chat_messages row as Prisma's ChatMessage (select list or RETURNING). */
export const CHAT_MESSAGE_COLUMNS = Prisma.sql`id, chat_id::text AS "chatId", role::text AS role,
  parts, content_version AS "contentVersion", created_by_id::text AS "createdById",
  model_config_id::text AS "modelConfigId", input_tokens AS "inputTokens",
  output_tokens AS "outputTokens", reasoning_tokens AS "reasoningTokens",
  cache_read_tokens AS "cacheReadTokens", cache_write_tokens AS "cacheWriteTokens",
  cost_micros AS "costMicros", is_summary AS "isSummary", deleted, created_at AS "createdAt"`;

/**
 * Hands these leases' chats back to PENDING, each only while the lease is still the given one
 * (chats acquired by a tick that raced with shutdown, and not started).
 */
export async function releaseChats(sql: Sql, workerId: string, leases: Lease[]) {
  if (leases.length === 0) return [];
  const ids = leases.map((lease) => lease.chatId);
  const epochs = leases.map((lease) => lease.epoch);
  return sql.query<{ id: string; owner_id: string }>`
    UPDATE chats SET status = 'PENDING', worker_id = NULL, started_at = NULL,
                     heartbeat_at = NULL, updated_at = now()
    WHERE worker_id = ${workerId} AND status = 'RUNNING'
      AND (id, lease_epoch) IN (
        SELECT * FROM unnest(${ids}::uuid[], ${epochs}::int[])
      )
    RETURNING id::text AS id, owner_id::text AS owner_id`;
}

/** Shutdown fallback: whatever this worker still holds goes back to PENDING. */
export async function releaseWorkerChats(sql: Sql, workerId: string) {
  return sql.query<{ id: string; owner_id: string }>`
    UPDATE chats SET status = 'PENDING', worker_id = NULL, started_at = NULL,
                     heartbeat_at = NULL, updated_at = now()
    WHERE worker_id = ${workerId} AND status = 'RUNNING'
    RETURNING id::text AS id, owner_id::text AS owner_id`;
}
