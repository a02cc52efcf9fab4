import type { Deps, Viewer } from '../deps.js';
import { badInput } from '../errors.js';
import type { PrismaClient } from '../db/client.js';
import { MAX_RUNNING_PER_USER_KEY } from '../db/fair-share.js';
import { isUuid } from '../db/ids.js';
import { requireAdmin } from '../users/service.js';
import { isValidTemplateName } from '../workspace/templates.js';

/**
 * Deployment-wide settings an admin tunes (issue #13), one site_configs row each; an absent row
 * is the default. Every value is validated before anything is written, and all rows of one update
 * are written in one transaction, so a bad value changes nothing.
 */
export interface DeploymentSettings {
  /** Templates the agent may list, read and create workspaces from; empty: all. */
  templateAllowlist: string[];
  /** A workspace with no tool activity for this long is stopped; null: never. */
  workspaceTtlMinutes: number | null;
  /** Root chats inactive this long are archived (with their subagents); null: never. */
  autoArchiveDays: number | null;
  /** Chats deleted this long ago have message bodies purged; null: never. */
  retentionDays: number | null;
  /** Added after the system prompt (the admin's or the default); empty: nothing. */
  systemPromptAddition: string;
  /** The model config explore subagents run on; null: the parent's model. */
  exploreModelConfigId: string | null;
  /** Most root chats of one user RUNNING at once; null: no cap. */
  maxRunningChatsPerUser: number | null;
}

/** An update: an absent field stays as it is, null restores the default. */
export type DeploymentSettingsInput = {
  [K in keyof DeploymentSettings]?: DeploymentSettings[K] | null;
};

export const DEFAULT_DEPLOYMENT_SETTINGS: DeploymentSettings = {
  templateAllowlist: [],
  workspaceTtlMinutes: null,
  autoArchiveDays: null,
  retentionDays: null,
  systemPromptAddition: '',
  exploreModelConfigId: null,
  maxRunningChatsPerUser: null,
};

const KEYS: Record<keyof DeploymentSettings, string> = {
  templateAllowlist: 'template_allowlist',
  workspaceTtlMinutes: 'workspace_ttl_minutes',
  autoArchiveDays: 'auto_archive_days',
  retentionDays: 'retention_days',
  systemPromptAddition: 'system_prompt_addition',
  exploreModelConfigId: 'explore_model_config_id',
  // The acquire statement reads this row itself (src/db/fair-share.ts).
  maxRunningChatsPerUser: MAX_RUNNING_PER_USER_KEY,
};

export const TEMPLATE_ALLOWLIST_MAX = 200;
export const SYSTEM_PROMPT_ADDITION_MAX = 20_000;
/** Ten years: beyond that a number is a typo, not a policy. */
const MAX_DAYS = 3_650;
const MAX_TTL_MINUTES = MAX_DAYS * 24 * 60;
const MAX_RUNNING_CAP = 10_000;

function positiveInt(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw badInput(
      field,
      `${field} must be a whole number from 1 to ${max}, or null to turn it off`,
    );
  }
  return value;
}

/** Reads every deployment setting in one query (the daemon and tools call this per use). */
export async function readDeploymentSettings(prisma: PrismaClient): Promise<DeploymentSettings> {
  const rows = await prisma.siteConfig.findMany({ where: { key: { in: Object.values(KEYS) } } });
  const stored = new Map(rows.map((row) => [row.key, row.value]));
  const int = (key: string) => {
    const value = stored.get(key);
    return value === undefined ? null : Number.parseInt(value, 10);
  };
  const allowlist = stored.get(KEYS.templateAllowlist);
  return {
    templateAllowlist: allowlist ? (JSON.parse(allowlist) as string[]) : [],
    workspaceTtlMinutes: int(KEYS.workspaceTtlMinutes),
    autoArchiveDays: int(KEYS.autoArchiveDays),
    retentionDays: int(KEYS.retentionDays),
    systemPromptAddition: stored.get(KEYS.systemPromptAddition) ?? '',
    exploreModelConfigId: stored.get(KEYS.exploreModelConfigId) ?? null,
    maxRunningChatsPerUser: int(KEYS.maxRunningChatsPerUser),
  };
}

/** Whether the allowlist lets the agent use this template. */
export function templateAllowed(
  settings: Pick<DeploymentSettings, 'templateAllowlist'>,
  name: string,
) {
  return settings.templateAllowlist.length === 0 || settings.templateAllowlist.includes(name);
}

/**
 * The stored text of each field of the update (null: delete the row, back to the default).
 * Throws BAD_USER_INPUT naming the first bad field.
 */
async function validate(
  prisma: PrismaClient,
  input: DeploymentSettingsInput,
): Promise<Map<string, string | null>> {
  const rows = new Map<string, string | null>();
  const int = (field: keyof DeploymentSettings, value: number | null | undefined, max: number) => {
    if (value === undefined) return;
    rows.set(KEYS[field], value === null ? null : String(positiveInt(field, value, max)));
  };

  if (input.templateAllowlist !== undefined) {
    const names = input.templateAllowlist ?? [];
    if (names.length > TEMPLATE_ALLOWLIST_MAX) {
      throw badInput('templateAllowlist', `At most ${TEMPLATE_ALLOWLIST_MAX} templates`);
    }
    const bad = names.find((name) => !isValidTemplateName(name));
    if (bad !== undefined) {
      throw badInput('templateAllowlist', `${JSON.stringify(bad)} is not a valid template name`);
    }
    const unique = [...new Set(names)].sort();
    rows.set(KEYS.templateAllowlist, unique.length === 0 ? null : JSON.stringify(unique));
  }
  int('workspaceTtlMinutes', input.workspaceTtlMinutes, MAX_TTL_MINUTES);
  int('autoArchiveDays', input.autoArchiveDays, MAX_DAYS);
  int('retentionDays', input.retentionDays, MAX_DAYS);
  int('maxRunningChatsPerUser', input.maxRunningChatsPerUser, MAX_RUNNING_CAP);

  if (input.systemPromptAddition !== undefined) {
    const text = input.systemPromptAddition ?? '';
    if (text.length > SYSTEM_PROMPT_ADDITION_MAX) {
      throw badInput(
        'systemPromptAddition',
        `systemPromptAddition must be at most ${SYSTEM_PROMPT_ADDITION_MAX} characters`,
      );
    }
    rows.set(KEYS.systemPromptAddition, text.trim() === '' ? null : text);
  }

  if (input.exploreModelConfigId !== undefined) {
    const id = input.exploreModelConfigId;
    if (id !== null) {
      const config = isUuid(id)
        ? await prisma.modelConfig.findFirst({
            where: { id, deletedAt: null, enabled: true },
            select: { id: true },
          })
        : null;
      if (!config) {
        throw badInput('exploreModelConfigId', 'No enabled model config has this id');
      }
    }
    rows.set(KEYS.exploreModelConfigId, id);
  }
  return rows;
}

export function createDeploymentSettingsService({ prisma }: Pick<Deps, 'prisma'>) {
  return {
    /** Every user may read them: they say what the user's agents may do and how they are run. */
    get: (_viewer: Viewer) => readDeploymentSettings(prisma),

    /** Admin only. Returns the settings in effect after the update. */
    async update(viewer: Viewer, input: DeploymentSettingsInput): Promise<DeploymentSettings> {
      requireAdmin(viewer);
      const rows = await validate(prisma, input);
      await prisma.$transaction([
        ...[...rows].map(([key, value]) =>
          value === null
            ? prisma.siteConfig.deleteMany({ where: { key } })
            : prisma.siteConfig.upsert({
                where: { key },
                create: { key, value },
                update: { value },
              }),
        ),
      ]);
      return readDeploymentSettings(prisma);
    },
  };
}

export type DeploymentSettingsService = ReturnType<typeof createDeploymentSettingsService>;
