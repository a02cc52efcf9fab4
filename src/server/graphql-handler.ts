import { createYoga } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import { toPublicError, useInputErrorCodes } from '../graphql/errors.js';
import { buildSchema } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { useStorableInput } from '../text/input-plugin.js';

export const GRAPHQL_PATH = '/graphql';

/** What Yoga is given per operation: HTTP requests, or WebSocket operations (see websocket.ts). */
export interface ServerContext {
  connectionParams?: Record<string, unknown>;
}

/**
 * The Yoga instance serving GraphQL over HTTP (and GraphiQL), whose envelop the WebSocket server
 * reuses, so both transports share one context factory, one plugin set and one error masking.
 */
export function createGraphQLHandler(options: {
  logger: Logger;
  /** Builds the operation's context from the Authorization value; throws UNAUTHENTICATED. */
  context: (authorization: unknown) => Promise<GraphQLContext>;
}) {
  const { logger } = options;
  return createYoga<ServerContext, GraphQLContext>({
    schema: buildSchema(),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    plugins: [useInputErrorCodes(), useStorableInput()],
    logging: false,
    // Masking stays on: only coded errors keep their message (src/graphql/errors.ts).
    maskedErrors: {
      maskError: (error) =>
        toPublicError(error, (internal) =>
          logger.error('internal error in GraphQL operation', { error: internal }),
        ),
    },
    context: (initial) =>
      options.context(
        initial.connectionParams?.['authorization'] ?? initial.request.headers.get('authorization'),
      ),
  });
}

export type GraphQLHandler = ReturnType<typeof createGraphQLHandler>;
