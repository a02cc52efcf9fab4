import { generateApiToken, hashToken } from '../crypto/tokens.js';
import type { Deps, Viewer } from '../deps.js';
import { isAdmin } from '../deps.js';
import { z } from 'zod';
import { conflict, forbidden, notFound } from '../errors.js';
import { parseInput } from '../parse-input.js';
import { isUniqueViolation } from '../db/errors.js';
import { isUuid } from '../db/ids.js';

const USERNAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const TOKEN_NAME_MAX = 128;

const usernameSchema = z.object({
  username: z
    .string()
    .trim()
    .regex(
      USERNAME_PATTERN,
      'Username must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
    ),
});
const tokenNameSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, `Token name must be 1-${TOKEN_NAME_MAX} characters`)
    .max(TOKEN_NAME_MAX, `Token name must be 1-${TOKEN_NAME_MAX} characters`),
});
/**
 * API tokens one user may hold (issue #8): enough for every device and script, few enough that
 * a leaked member token cannot mint hundreds of long-lived ones to survive its revocation.
 */
export const MAX_API_TOKENS_PER_USER = 50;
/** lastUsedAt is a hint, not an audit log: write it at most once a minute per token. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
export const BOOTSTRAP_ADMIN_USERNAME = 'admin';

export function createUserService({
  prisma,
  sql,
  logger,
  sessions,
}: Pick<Deps, 'prisma' | 'sql' | 'logger' | 'sessions'>) {
  return {
    /** Resolves a bearer token to its user, or null (B4). */
    async authenticate(token: string | undefined | null): Promise<Viewer | null> {
      if (!token) return null;
      // Every HTTP request and WebSocket connection: on the driver, not the ORM (issue #9).
      const [row] = await sql.query<Viewer & { tokenId: string; lastUsedAt: Date | null }>`
        SELECT t.id::text AS "tokenId", t.last_used_at AS "lastUsedAt", u.id::text AS id,
               u.username, u.role::text AS role
        FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = ${hashToken(token)}`;
      if (!row) return null;
      const now = Date.now();
      if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_WRITE_INTERVAL_MS) {
        // A hint only: if it fails (or the token was revoked meanwhile, which updates nothing),
        // the request still had a valid token.
        await sql.query`
          UPDATE api_tokens SET last_used_at = ${new Date(now)}::timestamptz
          WHERE id = ${row.tokenId}::uuid`.catch(() => undefined);
      }
      return { id: row.id, username: row.username, role: row.role };
    },

    /** BOOTSTRAP_ADMIN_TOKEN: when no user exists yet, create `admin` owning that token (B2). */
    async bootstrapAdmin(token: string | undefined): Promise<boolean> {
      if (!token) return false;
      if ((await prisma.user.count()) > 0) return false;
      try {
        await prisma.user.create({
          data: {
            username: BOOTSTRAP_ADMIN_USERNAME,
            role: 'ADMIN',
            apiTokens: { create: { name: 'bootstrap', tokenHash: hashToken(token) } },
          },
        });
      } catch (error) {
        // Another replica bootstrapped first.
        if (isUniqueViolation(error)) return false;
        throw error;
      }
      logger.info('bootstrap admin created', { username: BOOTSTRAP_ADMIN_USERNAME });
      return true;
    },

    async list(viewer: Viewer) {
      requireAdmin(viewer);
      return prisma.user.findMany({ orderBy: { createdAt: 'asc' } });
    },

    async create(viewer: Viewer, input: { username: string; role: 'ADMIN' | 'MEMBER' }) {
      requireAdmin(viewer);
      const { username } = parseInput(usernameSchema, input);
      try {
        return await prisma.user.create({ data: { username, role: input.role } });
      } catch (error) {
        // Unique regardless of case (migration 0003): "ADMIN" is refused beside "admin".
        if (isUniqueViolation(error)) throw conflict(`User "${username}" already exists`);
        throw error;
      }
    },

    async listTokens(viewer: Viewer) {
      return prisma.apiToken.findMany({
        where: { userId: viewer.id },
        orderBy: { createdAt: 'asc' },
      });
    },

    /** A member creates tokens for themselves; an admin may create one for any user. */
    async createToken(viewer: Viewer, input: { name: string; userId?: string | null }) {
      const { name } = parseInput(tokenNameSchema, input);
      const userId = input.userId ?? viewer.id;
      if (userId !== viewer.id) {
        if (!isAdmin(viewer)) throw forbidden('Only an admin can create tokens for other users');
        if (!(await findUser(userId))) throw notFound('User');
      }
      const token = generateApiToken();
      // Count and insert under a lock of the user's row, so parallel requests cannot pass the cap.
      const apiToken = await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
        if ((await tx.apiToken.count({ where: { userId } })) >= MAX_API_TOKENS_PER_USER) {
          throw conflict(
            `A user may have at most ${MAX_API_TOKENS_PER_USER} API tokens; revoke one first`,
          );
        }
        return tx.apiToken.create({ data: { userId, name, tokenHash: hashToken(token) } });
      });
      return { token, apiToken };
    },

    async revokeToken(viewer: Viewer, id: string) {
      const token = isUuid(id) ? await prisma.apiToken.findUnique({ where: { id } }) : null;
      // Another user's token is NOT_FOUND, like a missing one (B5); admins may revoke any.
      if (!token || (token.userId !== viewer.id && !isAdmin(viewer))) throw notFound('API token');
      await prisma.apiToken.delete({ where: { id } });
      // The token is checked when an operation starts; sockets already open with it are closed
      // here (this replica's before we return, the others' through pub/sub).
      await sessions?.endAccess({ tokenHash: token.tokenHash });
      return true;
    },
  };

  function findUser(id: string) {
    return isUuid(id) ? prisma.user.findUnique({ where: { id } }) : null;
  }
}

export type UserService = ReturnType<typeof createUserService>;

export function requireAdmin(viewer: Viewer) {
  if (!isAdmin(viewer)) throw forbidden();
}
