import { isUuid } from '../../db/ids.js';
import { builder } from '../builder.js';
import { NodeInterface, registerNodeLoader } from './node.js';

export const WorkspaceStatusEnum = builder.enumType('WorkspaceStatus', {
  values: ['STARTING', 'RUNNING', 'STOPPED', 'FAILED'] as const,
});

export const WorkspaceType = builder.prismaObject('Workspace', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    template: t.exposeString('template'),
    status: t.expose('status', { type: WorkspaceStatusEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

registerNodeLoader('Workspace', async (ctx, id) => {
  const workspace = isUuid(id) ? await ctx.prisma.workspace.findUnique({ where: { id } }) : null;
  return workspace && (workspace.ownerId === ctx.viewer.id || ctx.viewer.role === 'ADMIN')
    ? workspace
    : null;
});

builder.mutationFields((t) => ({
  deleteWorkspace: t.boolean({
    description:
      'Deletes one of your workspaces: its agent and processes stop and its directory is removed. ' +
      'Chats bound to it keep their messages and lose the binding (Chat.workspace becomes null). ' +
      "CONFLICT while any chat on it is PENDING or RUNNING; NOT_FOUND for another user's.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.workspaceDeletion.deleteWorkspace(ctx.viewer, id),
  }),
}));
