import type {
  CompactionThresholdOverride,
  UserSettingsView,
} from '../../settings/user-settings.js';
import { builder } from '../builder.js';

const CompactionThresholdOverrideType = builder
  .objectRef<CompactionThresholdOverride>('CompactionThresholdOverride')
  .implement({
    fields: (t) => ({
      modelConfigId: t.exposeID('modelConfigId'),
      threshold: t.exposeInt('threshold', {
        description: "Percent of the context limit; wins over the model config's own threshold.",
      }),
    }),
  });

const ViewerSettingsType = builder.objectRef<UserSettingsView>('ViewerSettings').implement({
  description: "The viewer's own agent settings.",
  fields: (t) => ({
    instructions: t.exposeString('instructions', {
      description: "Personal instructions added to the system prompt of the viewer's chats.",
    }),
    compactionThresholds: t.field({
      type: [CompactionThresholdOverrideType],
      resolve: (settings) => settings.compactionThresholds,
    }),
  }),
});

const CompactionThresholdInput = builder.inputType('CompactionThresholdInput', {
  fields: (t) => ({
    modelConfigId: t.id({ required: true }),
    threshold: t.int({ description: "Null removes the override (the model config's applies)." }),
  }),
});

const UpdateViewerSettingsInput = builder.inputType('UpdateViewerSettingsInput', {
  description: 'An omitted field stays as it is.',
  fields: (t) => ({
    instructions: t.string({ description: 'Replaces them; empty clears them.' }),
    compactionThresholds: t.field({ type: [CompactionThresholdInput] }),
  }),
});

builder.queryField('viewerSettings', (t) =>
  t.field({
    type: ViewerSettingsType,
    resolve: (_root, _args, ctx) => ctx.services.userSettings.get(ctx.viewer),
  }),
);

builder.mutationField('updateViewerSettings', (t) =>
  t.field({
    type: ViewerSettingsType,
    description: 'A bad value is refused (BAD_USER_INPUT) and nothing changes.',
    args: { input: t.arg({ type: UpdateViewerSettingsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.userSettings.update(ctx.viewer, {
        instructions: input.instructions,
        compactionThresholds: input.compactionThresholds?.map((entry) => ({
          modelConfigId: String(entry.modelConfigId),
          threshold: entry.threshold ?? null,
        })),
      }),
  }),
);
