import type { ArgBuilder, InputFieldMap, InputShapeFromFields } from '@pothos/core';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import type { Chat, Prisma } from '../../generated/prisma/client.js';

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
export type ChatArgBuilder = ArgBuilder<BuilderTypes>;

/** Whether the operation selects relations of the row, i.e. Pothos handed a non-empty query. */
export const hasSelection = (query: { include?: unknown; select?: unknown }) =>
  query.include !== undefined || query.select !== undefined;

/**
 * Mutations run in a domain service, which returns the bare row. When the operation selects
 * relations (owner, modelConfig, children, …) they are read in one query with Pothos' selection
 * instead of one query per relation.
 */
export async function withSelection(
  ctx: GraphQLContext,
  query: { include?: Prisma.ChatInclude; select?: Prisma.ChatSelect },
  written: Promise<Chat>,
) {
  const nested = hasSelection(query);
  const chat = await written;
  return nested ? ctx.prisma.chat.findUniqueOrThrow({ ...query, where: { id: chat.id } }) : chat;
}

/**
 * A mutation that returns the Chat it changed: the resolver stays "parse, call the service,
 * return", with the service doing the authorisation and the selection read by `withSelection`.
 */
export function chatMutationField<Args extends InputFieldMap>(
  name: string,
  options: {
    description?: string;
    args: (arg: ChatArgBuilder) => Args;
    run: (args: InputShapeFromFields<Args>, ctx: GraphQLContext) => Promise<Chat>;
  },
) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Chat',
      description: options.description,
      args: options.args(t.arg),
      resolve: (query, _root, args, ctx) => withSelection(ctx, query, options.run(args, ctx)),
    }),
  );
}
