import type { PrismaClient } from '../db/client.js';
import { badInput } from '../errors.js';
import { findUsableModelConfig } from '../providers/service.js';

/**
 * The model config a chat runs with: the requested one (must exist and be usable), else the
 * default one (B8). No usable config at all is the caller's input problem.
 */
export async function resolveChatModelConfigId(prisma: PrismaClient, requested?: string | null) {
  const config = await findUsableModelConfig(prisma, requested || null);
  if (config) return config.id;
  throw badInput(
    'modelConfigId',
    requested
      ? 'Model config not found or disabled'
      : 'No model config given and no default model config is set; an admin must create one',
  );
}
