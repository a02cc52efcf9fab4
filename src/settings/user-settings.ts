import type { Deps, Viewer } from '../deps.js';
import { badInput } from '../errors.js';
import type { PrismaClient } from '../db/client.js';
import { isUuid } from '../db/ids.js';
import type { ChatModel } from '../chats/chat-model.js';
import { COMPRESSION_THRESHOLD_MAX, COMPRESSION_THRESHOLD_MIN } from '../providers/validation.js';

/** A user's own settings (issue #13): what they tell every agent, and when their chats compact. */
export interface UserSettingsView {
  instructions: string;
  compactionThresholds: CompactionThresholdOverride[];
}

export interface CompactionThresholdOverride {
  modelConfigId: string;
  /** Percent of the model's context limit; wins over the model config's own threshold. */
  threshold: number;
}

export interface UserSettingsInput {
  /** Replaces the personal instructions; empty or null clears them. */
  instructions?: string | null;
  /** Sets these overrides; a null threshold removes that model config's override. */
  compactionThresholds?: { modelConfigId: string; threshold: number | null }[] | null;
}

export const PERSONAL_INSTRUCTIONS_MAX = 10_000;

type StoredThresholds = Record<string, number>;

const thresholdsOf = (json: unknown): StoredThresholds =>
  json && typeof json === 'object' && !Array.isArray(json) ? (json as StoredThresholds) : {};

function view(row: { instructions: string; compactionThresholds: unknown } | null) {
  const thresholds = thresholdsOf(row?.compactionThresholds);
  return {
    instructions: row?.instructions ?? '',
    compactionThresholds: Object.entries(thresholds)
      .map(([modelConfigId, threshold]) => ({ modelConfigId, threshold }))
      .sort((a, b) => a.modelConfigId.localeCompare(b.modelConfigId)),
  };
}

/** The user's personal instructions (empty when none): the daemon adds them to the prompt. */
export async function personalInstructions(prisma: PrismaClient, userId: string) {
  const row = await prisma.userSettings.findUnique({
    where: { userId },
    select: { instructions: true },
  });
  return row?.instructions ?? '';
}

/**
 * The chat's model with the owner's compaction threshold when they set one for its model config
 * (precedence: the user's override, then the model config's threshold).
 */
export function withCompactionThreshold(
  chatModel: ChatModel | null,
  thresholds: Record<string, number>,
): ChatModel | null {
  if (!chatModel) return chatModel;
  const override = thresholds[chatModel.settings.modelConfigId];
  if (override === undefined) return chatModel;
  return { ...chatModel, settings: { ...chatModel.settings, compressionThreshold: override } };
}

/** withCompactionThreshold with the user's overrides read now. */
export async function withUserCompactionThreshold(
  prisma: PrismaClient,
  userId: string,
  chatModel: ChatModel | null,
): Promise<ChatModel | null> {
  const row = await prisma.userSettings.findUnique({
    where: { userId },
    select: { compactionThresholds: true },
  });
  return withCompactionThreshold(chatModel, thresholdsOf(row?.compactionThresholds));
}

export function createUserSettingsService({ prisma }: Pick<Deps, 'prisma'>) {
  return {
    async get(viewer: Viewer): Promise<UserSettingsView> {
      return view(await prisma.userSettings.findUnique({ where: { userId: viewer.id } }));
    },

    /** The viewer's own settings only; a bad value is refused and nothing changes. */
    async update(viewer: Viewer, input: UserSettingsInput): Promise<UserSettingsView> {
      const data: { instructions?: string; compactionThresholds?: StoredThresholds } = {};
      if (input.instructions !== undefined) {
        const text = input.instructions ?? '';
        if (text.length > PERSONAL_INSTRUCTIONS_MAX) {
          throw badInput(
            'instructions',
            `instructions must be at most ${PERSONAL_INSTRUCTIONS_MAX} characters`,
          );
        }
        data.instructions = text.trim() === '' ? '' : text;
      }
      const changes = input.compactionThresholds ?? [];
      if (changes.length > 0) {
        for (const { modelConfigId, threshold } of changes) {
          const exists =
            isUuid(modelConfigId) &&
            (await prisma.modelConfig.count({ where: { id: modelConfigId, deletedAt: null } })) > 0;
          if (!exists) throw badInput('compactionThresholds', 'No model config has this id');
          if (
            threshold !== null &&
            (!Number.isInteger(threshold) ||
              threshold < COMPRESSION_THRESHOLD_MIN ||
              threshold > COMPRESSION_THRESHOLD_MAX)
          ) {
            throw badInput(
              'compactionThresholds',
              `threshold must be an integer from ${COMPRESSION_THRESHOLD_MIN} to ` +
                `${COMPRESSION_THRESHOLD_MAX}, or null to use the model config's`,
            );
          }
        }
        const current = await prisma.userSettings.findUnique({ where: { userId: viewer.id } });
        const thresholds = { ...thresholdsOf(current?.compactionThresholds) };
        for (const { modelConfigId, threshold } of changes) {
          if (threshold === null) delete thresholds[modelConfigId];
          else thresholds[modelConfigId] = threshold;
        }
        data.compactionThresholds = thresholds;
      }
      const row = await prisma.userSettings.upsert({
        where: { userId: viewer.id },
        create: { userId: viewer.id, ...data },
        update: data,
      });
      return view(row);
    },
  };
}

export type UserSettingsService = ReturnType<typeof createUserSettingsService>;
