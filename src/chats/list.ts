import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { Viewer } from '../deps.js';
import { badInput } from '../errors.js';
import { validateLabels, type Label } from './labels.js';

/**
 * The chat list (B25): the viewer's root chats, pinned first by pinOrder, then newest activity
 * first. Keyset pagination on (pinned rank, pin order, last activity, id): a cursor names a
 * position, not an offset, so chats created meanwhile never shift the next page.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ChatFilterInput {
  archived?: boolean | null;
  labels?: Label[] | null;
  status?: string[] | null;
  search?: string | null;
}

interface Position {
  /** Pin order, or null for unpinned chats (which sort after every pinned one). */
  pin: number | null;
  activity: string;
  id: string;
}

export function encodeChatCursor(chat: {
  pinOrder: number | null;
  lastActivityAt: Date;
  id: string;
}): string {
  const position: Position = {
    pin: chat.pinOrder,
    activity: chat.lastActivityAt.toISOString(),
    id: chat.id,
  };
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (typeof parsed.id === 'string' && typeof parsed.activity === 'string') return parsed;
  } catch {
    // fall through
  }
  throw badInput('after', 'Invalid cursor');
}

/** Returns one page of chat ids in list order, plus whether more follow. */
export async function listChatIds(
  prisma: PrismaClient,
  viewer: Viewer,
  args: { first?: number | null; after?: string | null; filter?: ChatFilterInput | null },
) {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  const filter = args.filter ?? {};
  const conditions: Prisma.Sql[] = [
    Prisma.sql`owner_id = ${viewer.id}::uuid`,
    Prisma.sql`parent_id IS NULL`,
    Prisma.sql`deleted_at IS NULL`,
    Prisma.sql`archived = ${filter.archived ?? false}`,
  ];
  if (filter.labels?.length) {
    const labels = validateLabels(filter.labels, 'filter.labels');
    conditions.push(Prisma.sql`labels @> ${JSON.stringify(labels)}::jsonb`);
  }
  if (filter.status?.length) {
    conditions.push(Prisma.sql`status::text IN (${Prisma.join(filter.status)})`);
  }
  if (filter.search?.trim()) {
    const pattern = `%${filter.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(Prisma.sql`title ILIKE ${pattern}`);
  }
  if (args.after) conditions.push(afterCondition(decodeCursor(args.after)));
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM chats
    WHERE ${Prisma.join(conditions, ' AND ')}
    ORDER BY (pin_order IS NULL), pin_order, last_activity_at DESC, id DESC
    LIMIT ${first + 1}`;
  return { ids: rows.slice(0, first).map((row) => row.id), hasNextPage: rows.length > first };
}

function afterCondition(position: Position): Prisma.Sql {
  const activity = new Date(position.activity);
  const laterActivity = Prisma.sql`(last_activity_at < ${activity} OR (last_activity_at = ${activity} AND id < ${position.id}::uuid))`;
  if (position.pin === null) return Prisma.sql`(pin_order IS NULL AND ${laterActivity})`;
  return Prisma.sql`(pin_order IS NULL OR pin_order > ${position.pin} OR (pin_order = ${position.pin} AND ${laterActivity}))`;
}
