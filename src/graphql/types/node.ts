import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';

/**
 * The contract's `Node` interface over the database's own ids (opaque strings to clients).
 * Each type family registers how to load one of its nodes for the viewer; `node(id)` asks them in
 * turn. A node the viewer may not see is null, exactly like a missing one (B5).
 */
type NodeLoader = (ctx: GraphQLContext, id: string) => Promise<object | null>;
const loaders = new Map<string, NodeLoader>();
const NODE_TYPE = Symbol('nodeType');

export function registerNodeLoader(typeName: string, load: NodeLoader) {
  loaders.set(typeName, load);
}

export const NodeInterface = builder.interfaceRef<{ id: string | bigint }>('Node').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
  resolveType: (value) => (value as { [NODE_TYPE]?: string })[NODE_TYPE] ?? null,
});

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      for (const [typeName, load] of loaders) {
        const found = await load(ctx, String(id));
        if (found)
          return Object.assign(found, { [NODE_TYPE]: typeName }) as unknown as { id: string };
      }
      return null;
    },
  }),
);
