import { Prisma } from '../generated/prisma/client.js';
import { isUuid } from '../db/ids.js';
import type { Sql } from '../db/sql.js';
import { badInput } from '../errors.js';
import { USABLE_MODEL_CONFIG_SQL } from '../providers/service.js';

/**
 * The usable model config a chat should use: the given one, or the default when none is given;
 * null when it does not exist or cannot be used (disabled or deleted, or its provider is). On the
 * driver: every createChat asks (issue #9).
 */
export async function findUsableModelConfigId(
  sql: Sql,
  requested?: string | null,
): Promise<string | null> {
  if (requested && !isUuid(requested)) return null;
  const [config] = await sql.query<{ id: string }>`
    SELECT mc.id::text AS id
    FROM model_configs mc JOIN providers p ON p.id = mc.provider_id
    WHERE ${USABLE_MODEL_CONFIG_SQL}
      AND ${requested ? Prisma.sql`mc.id = ${requested}::uuid` : Prisma.sql`mc.is_default`}
    LIMIT 1`;
  return config?.id ?? null;
}

/**
 * The model config a chat runs with: the requested one (must exist and be usable), else the
 * default one (B8). No usable config at all is the caller's input problem.
 */
export async function resolveChatModelConfigId(sql: Sql, requested?: string | null) {
  const id = await findUsableModelConfigId(sql, requested);
  if (id) return id;
  throw badInput(
    'modelConfigId',
    requested
      ? 'Model config not found or disabled'
      : 'No model config given and no default model config is set; an admin must create one',
  );
}
