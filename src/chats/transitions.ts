import { CHAT_MESSAGE_COLUMNS } from '../db/chat-leases.js';
import type { Sql } from '../db/sql.js';
import {
  Prisma,
  type Chat,
  type ChatMessage,
  type ChatMode,
  type QueuedMessage,
} from '../generated/prisma/client.js';
import { mcpChoiceRows } from '../mcp/selection.js';
import { CONTENT_VERSION, textPart, type FilePart, type MessagePart } from './parts.js';

/**
 * Writes shared by the API and the daemon. Each runs inside the caller's transaction, after the
 * chat row is locked, so a transition is one transaction (see src/daemon/ARCHITECTURE.md); or,
 * on the API's hot path (issue #9), is one statement on the driver that locks what it changes.
 */

/** What a new chat is created with; everything else takes the column's default. */
export interface NewChat {
  ownerId: string;
  title: string;
  mode?: ChatMode;
  modelConfigId?: string | null;
  labels?: Record<string, string>;
  workspaceId?: string | null;
  parentId?: string | null;
  rootId?: string | null;
  explore?: boolean;
}

/**
 * Creates a PENDING chat with its first USER message (createChat, spawn_agent), and links the
 * message's files and records the MCP server choice when given: one statement on the driver
 * (issue #9; it was BEGIN, chat, message, links, COMMIT through the ORM), so all of it commits
 * together and a daemon never sees the chat without its links. Returns the rows as Prisma's.
 */
export async function createPendingChat(
  sql: Sql,
  chat: NewChat,
  text: string,
  createdById: string,
  /** Parts after the text, e.g. the message's files (issue #10). */
  moreParts: readonly MessagePart[] = [],
  links: { fileIds?: readonly string[]; mcpServerIds?: readonly string[] | null } = {},
): Promise<{ chat: Chat; message: ChatMessage }> {
  const parts = userMessageParts(text, moreParts);
  const fileIds = links.fileIds ?? [];
  const mcpChoices = links.mcpServerIds
    ? Prisma.sql`, mcp_choices AS (
        INSERT INTO chat_mcp_servers (chat_id, mcp_server_id, selected)
        SELECT chat.id, choice.mcp_server_id, choice.selected
        FROM chat, (${mcpChoiceRows(links.mcpServerIds)}) AS choice)`
    : Prisma.empty;
  const [row] = await sql.query<Record<string, unknown>>`
    WITH chat AS (
      INSERT INTO chats (owner_id, title, status, mode, model_config_id, labels, workspace_id,
                         parent_id, root_id, explore)
      VALUES (${chat.ownerId}::uuid, ${chat.title}, 'PENDING', ${chat.mode ?? 'DEFAULT'}::"ChatMode",
              ${chat.modelConfigId ?? null}::uuid, ${JSON.stringify(chat.labels ?? {})}::jsonb,
              ${chat.workspaceId ?? null}::uuid, ${chat.parentId ?? null}::uuid,
              ${chat.rootId ?? null}::uuid, ${chat.explore ?? false})
      RETURNING *
    ), message AS (
      INSERT INTO chat_messages (chat_id, role, parts, content_version, created_by_id)
      SELECT chat.id, 'USER', ${parts}::jsonb, ${CONTENT_VERSION}, ${createdById}::uuid FROM chat
      RETURNING ${CHAT_MESSAGE_COLUMNS}
    ), ${linkFilesCte('chat', fileIds)}${mcpChoices}
    SELECT message.*, ${CHAT_COLUMNS_PREFIXED} FROM chat, message`;
  return splitChatAndMessage(row!);
}

/** A CTE linking files to the chat of the CTE `chat` (as linkFiles does: duplicates skipped). */
function linkFilesCte(chat: 'chat' | 'target', fileIds: readonly string[]) {
  return Prisma.sql`file_links AS (
      INSERT INTO chat_file_links (chat_id, file_id)
      SELECT ${Prisma.raw(chat)}.id, file_id FROM ${Prisma.raw(chat)}, unnest(${fileIds}::uuid[]) AS file_id
      ON CONFLICT DO NOTHING
    )`;
}

/** A row of `SELECT message.*, ${CHAT_COLUMNS_PREFIXED}` as Prisma's ChatMessage and Chat. */
function splitChatAndMessage(row: Record<string, unknown>) {
  const message: Record<string, unknown> = {};
  const chat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith(CHAT_PREFIX)) chat[key.slice(CHAT_PREFIX.length)] = value;
    else message[key] = value;
  }
  return { chat: chat as unknown as Chat, message: message as unknown as ChatMessage };
}

/**
 * A USER message with its files to a chat that is idle (WAITING or ERROR, not archived), owned
 * by `ownerId` and not deleted, and the chat PENDING (B8): sendMessage's common case in one
 * statement on the driver (issue #9; it was BEGIN, lock, read, insert, update, COMMIT). The
 * chat row is locked first and its state checked after the lock, so this serialises with the
 * daemon like the transaction does. Null when the chat is anything else: the caller then runs
 * its transaction, which decides (busy, PAUSED, archived, not found).
 */
export async function sendToIdleChat(
  sql: Sql,
  chatId: string,
  ownerId: string,
  text: string,
  moreParts: readonly MessagePart[],
  fileIds: readonly string[],
): Promise<{ chat: Chat; message: ChatMessage } | null> {
  const [row] = await sql.query<Record<string, unknown>>`
    WITH target AS (
      SELECT id FROM chats
      WHERE id = ${chatId}::uuid AND owner_id = ${ownerId}::uuid AND deleted_at IS NULL
        AND NOT archived AND status IN ('WAITING', 'ERROR')
      FOR UPDATE
    ), message AS (
      INSERT INTO chat_messages (chat_id, role, parts, content_version, created_by_id)
      SELECT target.id, 'USER', ${userMessageParts(text, moreParts)}::jsonb, ${CONTENT_VERSION},
             ${ownerId}::uuid
      FROM target
      RETURNING ${CHAT_MESSAGE_COLUMNS}
    ), chat AS (
      UPDATE chats SET ${SET_PENDING_FOR_USER_MESSAGE}, updated_at = now()
      FROM target WHERE chats.id = target.id
      RETURNING chats.*
    ), ${linkFilesCte('target', fileIds)}
    SELECT message.*, ${CHAT_COLUMNS_PREFIXED} FROM chat, message`;
  return row ? splitChatAndMessage(row) : null;
}

/** A USER message's parts: its text, then e.g. its files. */
function userMessageParts(text: string, moreParts: readonly MessagePart[]) {
  return JSON.stringify([textPart(text), ...moreParts]);
}

/**
 * What a USER message does to its chat (B8, B20: it also answers a pending question), in SQL:
 * the one definition sendToIdleChat's statement and insertUserMessageAndSetPending's update share.
 */
const SET_PENDING_FOR_USER_MESSAGE = Prisma.sql`status = 'PENDING', last_error = NULL,
  interrupt_request = NULL, last_activity_at = now(), pending_question = NULL`;

const CHAT_PREFIX = 'chat.';

/** Each field of Prisma's Chat and the column (cast where Prisma's type needs it) it reads. */
const CHAT_FIELDS = [
  ['id', 'id::text'],
  ['ownerId', 'owner_id::text'],
  ['title', 'title'],
  ['status', 'status::text'],
  ['lastError', 'last_error'],
  ['mode', 'mode::text'],
  ['modelConfigId', 'model_config_id::text'],
  ['labels', 'labels'],
  ['archived', 'archived'],
  ['pinOrder', 'pin_order'],
  ['parentId', 'parent_id::text'],
  ['rootId', 'root_id::text'],
  ['workspaceId', 'workspace_id::text'],
  ['explore', 'explore'],
  ['workerId', 'worker_id'],
  ['leaseEpoch', 'lease_epoch'],
  ['interruptRequest', 'interrupt_request'],
  ['startedAt', 'started_at'],
  ['heartbeatAt', 'heartbeat_at'],
  ['lastReadMessageId', 'last_read_message_id'],
  ['lastActivityAt', 'last_activity_at'],
  ['deletedAt', 'deleted_at'],
  ['purgedAt', 'purged_at'],
  ['pendingQuestion', 'pending_question'],
  ['plan', 'plan'],
  ['createdAt', 'created_at'],
  ['updatedAt', 'updated_at'],
] satisfies [keyof Chat, string][];

/** A row of `table` as Prisma's Chat, each field's name after `prefix`. */
function chatColumns(table: string, prefix = '') {
  return Prisma.raw(
    CHAT_FIELDS.map(([field, column]) => `${table}.${column} AS "${prefix}${field}"`).join(', '),
  );
}

/** The `chat` CTE's row as Prisma's Chat, each field prefixed with CHAT_PREFIX. */
const CHAT_COLUMNS_PREFIXED = chatColumns('chat', CHAT_PREFIX);

/**
 * Inserts a USER message and makes the chat PENDING for the daemon (B8, B11), in the caller's
 * transaction. sendToIdleChat does the same in one statement; both set the chat through
 * SET_PENDING_FOR_USER_MESSAGE.
 */
export async function insertUserMessageAndSetPending(
  tx: Prisma.TransactionClient,
  chatId: string,
  text: string,
  createdById: string | null,
  /** Parts after the text, e.g. the message's files (issue #10). */
  moreParts: readonly MessagePart[] = [],
) {
  const message = await tx.chatMessage.create({
    data: {
      chatId,
      role: 'USER',
      parts: [textPart(text), ...moreParts] as unknown as Prisma.InputJsonValue,
      contentVersion: CONTENT_VERSION,
      createdById,
    },
  });
  const [chat] = await tx.$queryRaw<Chat[]>`
    UPDATE chats SET ${SET_PENDING_FOR_USER_MESSAGE}, updated_at = now()
    WHERE id = ${chatId}::uuid
    RETURNING ${chatColumns('chats')}`;
  return { message, chat: chat! };
}

/** The FileParts a queued message carries (issue #10); stored as a JSON array. */
export function queuedFileParts(queued: Pick<QueuedMessage, 'files'>): FilePart[] {
  return Array.isArray(queued.files) ? (queued.files as unknown as FilePart[]) : [];
}

/** Runs a queued message: inserts it as a USER message, with its files, and sets PENDING. */
export function insertQueuedMessageAndSetPending(
  tx: Prisma.TransactionClient,
  chatId: string,
  queued: Pick<QueuedMessage, 'text' | 'createdById' | 'files'>,
) {
  return insertUserMessageAndSetPending(
    tx,
    chatId,
    queued.text,
    queued.createdById,
    queuedFileParts(queued),
  );
}

/** Removes and returns the head of a chat's queue (lowest position), or null. */
export async function popQueuedMessage(tx: Prisma.TransactionClient, chatId: string) {
  const head = await tx.queuedMessage.findFirst({
    where: { chatId },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
  });
  if (!head) return null;
  await tx.queuedMessage.delete({ where: { id: head.id } });
  return head;
}

/** Queue positions: append at the tail, or go to the head (INTERRUPT, promote). */
export async function queuePosition(
  tx: Prisma.TransactionClient,
  chatId: string,
  where: 'head' | 'tail',
): Promise<number> {
  const aggregate = await tx.queuedMessage.aggregate({
    where: { chatId },
    _min: { position: true },
    _max: { position: true },
  });
  return where === 'head' ? (aggregate._min.position ?? 1) - 1 : (aggregate._max.position ?? 0) + 1;
}
