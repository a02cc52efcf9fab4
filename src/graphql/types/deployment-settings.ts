import type { DeploymentSettings } from '../../settings/deployment.js';
import { builder } from '../builder.js';

const DeploymentSettingsType = builder
  .objectRef<DeploymentSettings>('DeploymentSettings')
  .implement({
    description: 'Deployment-wide agent settings. Every user may read them; an admin sets them.',
    fields: (t) => ({
      templateAllowlist: t.exposeStringList('templateAllowlist', {
        description: 'Templates the agent may list, read and create workspaces from. Empty: all.',
      }),
      workspaceTtlMinutes: t.exposeInt('workspaceTtlMinutes', {
        nullable: true,
        description:
          'A workspace with no tool activity for this many minutes is stopped (start_workspace ' +
          'brings it back). Null (default): never.',
      }),
      autoArchiveDays: t.exposeInt('autoArchiveDays', {
        nullable: true,
        description:
          'Root chats (with their subagents) with no activity for this many days are archived; ' +
          'pinned ones are not. Null (default): never.',
      }),
      retentionDays: t.exposeInt('retentionDays', {
        nullable: true,
        description:
          'Chats deleted this many days ago lose their message bodies; usage stays. Null ' +
          '(default): kept.',
      }),
      systemPromptAddition: t.exposeString('systemPromptAddition', {
        description: 'Text added after the system prompt. Empty (default): nothing.',
      }),
      exploreModelConfigId: t.exposeID('exploreModelConfigId', {
        nullable: true,
        description: "The model config explore subagents run on. Null (default): the parent's.",
      }),
      maxRunningChatsPerUser: t.exposeInt('maxRunningChatsPerUser', {
        nullable: true,
        description:
          "Most of one user's root chats RUNNING at once (subagents are not capped). Null " +
          '(default): no cap.',
      }),
    }),
  });

const UpdateDeploymentSettingsInput = builder.inputType('UpdateDeploymentSettingsInput', {
  description: 'An omitted field stays as it is; null restores its default.',
  fields: (t) => ({
    templateAllowlist: t.stringList(),
    workspaceTtlMinutes: t.int(),
    autoArchiveDays: t.int(),
    retentionDays: t.int(),
    systemPromptAddition: t.string(),
    exploreModelConfigId: t.id(),
    maxRunningChatsPerUser: t.int(),
  }),
});

builder.queryField('deploymentSettings', (t) =>
  t.field({
    type: DeploymentSettingsType,
    resolve: (_root, _args, ctx) => ctx.services.deploymentSettings.get(ctx.viewer),
  }),
);

builder.mutationField('updateDeploymentSettings', (t) =>
  t.field({
    type: DeploymentSettingsType,
    description: 'Admin only. A bad value is refused (BAD_USER_INPUT) and nothing changes.',
    args: { input: t.arg({ type: UpdateDeploymentSettingsInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.deploymentSettings.update(ctx.viewer, input),
  }),
);
