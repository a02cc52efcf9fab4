import type { Deps, Viewer } from '../deps.js';
import { badInput } from '../errors.js';
import type { PrismaClient } from '../db/client.js';
import { requireAdmin } from '../users/service.js';
import { DEFAULT_SYSTEM_PROMPT } from './system-prompt.js';

export { DEFAULT_SYSTEM_PROMPT } from './system-prompt.js';

/** site_configs key of the admin's system prompt; absent means the built-in default. */
export const SYSTEM_PROMPT_KEY = 'system_prompt';
/** Far beyond any sensible prompt, well inside every model's context. */
export const SYSTEM_PROMPT_MAX = 100_000;

/** For the daemon: the system prompt in effect (the admin's, else the built-in default). */
export async function getSystemPrompt(prisma: PrismaClient): Promise<string> {
  const row = await prisma.siteConfig.findUnique({ where: { key: SYSTEM_PROMPT_KEY } });
  return row?.value ?? DEFAULT_SYSTEM_PROMPT;
}

/** Deployment-wide settings stored in site_configs. */
export function createSettingsService({ prisma }: Pick<Deps, 'prisma'>) {
  return {
    /** Any authenticated user may read it: it is what their agents are told. */
    getSystemPrompt: (_viewer: Viewer) => getSystemPrompt(prisma),

    /** Admin only (B23). An empty (or blank) prompt restores the default; returns the effective one. */
    async setSystemPrompt(viewer: Viewer, prompt: string): Promise<string> {
      requireAdmin(viewer);
      if (prompt.length > SYSTEM_PROMPT_MAX) {
        throw badInput('prompt', `prompt must be at most ${SYSTEM_PROMPT_MAX} characters`);
      }
      if (prompt.trim() === '') {
        await prisma.siteConfig.deleteMany({ where: { key: SYSTEM_PROMPT_KEY } });
        return DEFAULT_SYSTEM_PROMPT;
      }
      const row = await prisma.siteConfig.upsert({
        where: { key: SYSTEM_PROMPT_KEY },
        create: { key: SYSTEM_PROMPT_KEY, value: prompt },
        update: { value: prompt },
      });
      return row.value;
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
