import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * The model config a chat runs with: the requested one (must exist and be enabled), else the
 * default enabled one (B8). No usable config at all is the caller's input problem.
 */
export async function resolveChatModelConfigId(db: Db, requested?: string | null) {
  if (requested) {
    const config = isUuid(requested)
      ? await db.modelConfig.findFirst({
          where: { id: requested, enabled: true, deletedAt: null, provider: { deletedAt: null } },
        })
      : null;
    if (!config) {
      throw badInput('modelConfigId', 'Model config not found or disabled');
    }
    return config.id;
  }
  const fallback = await db.modelConfig.findFirst({
    where: { enabled: true, deletedAt: null, provider: { deletedAt: null, enabled: true } },
    orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }],
  });
  if (!fallback?.isDefault) {
    throw badInput(
      'modelConfigId',
      'No model config given and no default model config is set; an admin must create one',
    );
  }
  return fallback.id;
}
