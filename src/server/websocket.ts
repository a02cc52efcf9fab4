import type { IncomingMessage } from 'node:http';
import { parse, type ExecutionArgs, type GraphQLError, type execute } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { toPublicError } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { GRAPHQL_PATH, type GraphQLHandler } from './graphql-handler.js';

type OperationResult = ReturnType<typeof execute>;

/** How long dispose() waits for closed sockets' subscriptions to end before it gives up. */
const DRAIN_TIMEOUT_MS = 2_000;
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
  // Sockets whose subscriptions have not all ended. A subscription unsubscribes from pub/sub as it
  // ends, after its socket closed; the app closes pub/sub right after dispose(), and an
  // unsubscribe that comes later fails on the closed Redis connection (SIGTERM then exits 1).
  const open = new Set<WebSocket>();
  let drained: (() => void) | undefined;
  wsServer.on('connection', (socket) => open.add(socket));
  const handle = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      onClose: (ctx) => {
        open.delete(ctx.extra.socket);
        if (open.size === 0) drained?.();
      },
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
  return {
    /** Closes every socket and resolves once their subscriptions have ended (B3). */
    async dispose() {
      await handle.dispose();
      if (open.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        drained = resolve;
        timer = setTimeout(() => {
          logger.warn('WebSocket subscriptions did not end in time', { open: open.size });
          resolve();
        }, DRAIN_TIMEOUT_MS);
      });
      clearTimeout(timer);
    },
  };
}
