import type { IncomingMessage } from 'node:http';
import { parse, type ExecutionArgs, type GraphQLError, type execute } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocketServer } from 'ws';
import { toPublicError } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { GRAPHQL_PATH, type GraphQLHandler } from './graphql-handler.js';

type OperationResult = ReturnType<typeof execute>;
interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the GraphQL path. Each operation runs through Yoga's own
 * envelop, so it gets the same context (with connectionParams.authorization), plugins and masking
 * as HTTP. Errors before execution (no valid token, a syntax or validation error) are answered
 * with coded errors for that operation; the socket stays open.
 */
export function serveGraphQLOverWebSocket(
  wsServer: WebSocketServer,
  yoga: GraphQLHandler,
  logger: Logger,
) {
  const publicError = (error: unknown) =>
    toPublicError(error, (internal) =>
      logger.error('internal error in WebSocket operation', { error: internal }),
    );
  return useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          request: new Request(`http://localhost${GRAPHQL_PATH}`),
        });
        let contextValue: unknown;
        let document: ReturnType<typeof parse>;
        try {
          contextValue = await enveloped.contextFactory();
          document = enveloped.parse(params.query);
        } catch (error) {
          return [publicError(error)];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors.map((error: GraphQLError) => publicError(error));
        return {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wsServer,
  );
}
