import { isUuid } from '../../db/ids.js';
import { isAdmin } from '../../deps.js';
import { builder } from '../builder.js';
import { NodeInterface, registerNodeLoader } from './node.js';

export const UserRoleEnum = builder.enumType('UserRole', { values: ['ADMIN', 'MEMBER'] as const });

export const UserType = builder.prismaObject('User', {
  interfaces: [NodeInterface],
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    role: t.expose('role', { type: UserRoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

registerNodeLoader('User', async (ctx, id) =>
  isUuid(id) && (isAdmin(ctx.viewer) || id === ctx.viewer.id)
    ? ctx.prisma.user.findUnique({ where: { id } })
    : null,
);

export const ApiTokenType = builder.prismaObject('ApiToken', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiTokenPayload = builder
  .objectRef<{ token: string; apiToken: { id: string } }>('CreateApiTokenPayload')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', {
        description: 'The secret. Shown once, stored only as a hash.',
      }),
      apiToken: t.prismaField({
        type: 'ApiToken',
        resolve: (query, payload, _args, ctx) =>
          ctx.prisma.apiToken.findUniqueOrThrow({ ...query, where: { id: payload.apiToken.id } }),
      }),
    }),
  });

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    role: t.field({ type: UserRoleEnum, required: true }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.prismaField({
    type: 'User',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: ctx.viewer.id } }),
  }),
  users: t.prismaField({
    type: ['User'],
    description: 'Admin only.',
    resolve: (_query, _root, _args, ctx) => ctx.services.users.list(ctx.viewer),
  }),
  apiTokens: t.prismaField({
    type: ['ApiToken'],
    description: "The viewer's own tokens.",
    resolve: (_query, _root, _args, ctx) => ctx.services.users.listTokens(ctx.viewer),
  }),
}));

builder.mutationFields((t) => ({
  createUser: t.prismaField({
    type: 'User',
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_query, _root, { input }, ctx) => ctx.services.users.create(ctx.viewer, input),
  }),
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    args: { name: t.arg.string({ required: true }), userId: t.arg.id() },
    resolve: (_root, args, ctx) =>
      ctx.services.users.createToken(ctx.viewer, { name: args.name, userId: args.userId }),
  }),
  revokeApiToken: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.users.revokeToken(ctx.viewer, id),
  }),
}));
