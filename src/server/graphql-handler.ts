import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { GraphQLContext } from '../graphql/context.js';
import { toPublicError, useInputErrorCodes } from '../graphql/errors.js';
import { buildSchema } from '../graphql/schema.js';
import type { Logger } from '../logger.js';
import { useStorableInput } from '../text/input-plugin.js';
import {
  enforcePageSizeLimit,
  queryLimitPlugins,
  type QueryLimitSettings,
} from './query-limits.js';
import { useMutationRateLimit, type MutationRateLimit } from './rate-limit.js';

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
  /** Query limits and the browser origins allowed (issue #8). */
  limits: QueryLimitSettings & Pick<Config, 'CORS_ORIGINS'>;
  /** Per-user mutation rate limit; omitted: none. */
  rateLimit?: MutationRateLimit;
}) {
  const { logger, limits } = options;
  const allowedOrigins = new Set(limits.CORS_ORIGINS);
  return createYoga<ServerContext, GraphQLContext>({
    schema: enforcePageSizeLimit(buildSchema()),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    plugins: [
      useInputErrorCodes(),
      useStorableInput(),
      useCsrfPrevention(),
      ...queryLimitPlugins(limits),
      ...(options.rateLimit ? [useMutationRateLimit(options.rateLimit) as Plugin] : []),
    ],
    // Yoga's default reflects any Origin with credentials. Only CORS_ORIGINS get CORS headers
    // (same-origin requests need none), and never with credentials: the API authenticates with
    // a bearer header, not cookies, so a browser has nothing ambient to send.
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (!origin || !allowedOrigins.has(origin)) return false;
      return {
        origin: [origin],
        credentials: false,
        methods: ['GET', 'POST'],
        allowedHeaders: ['authorization', 'content-type', CSRF_HEADER],
      };
    },
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

/** A header a cross-site form cannot set: its presence means a CORS preflight happened. */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

/**
 * Yoga's CSRF prevention: a request whose content type a plain HTML form can send
 * (form-encoded, multipart, text/plain) or a GET without a content type must carry a header that
 * forces a CORS preflight, or nothing runs (403). Authorization counts: a browser adds it only
 * with a preflight, and every authenticated request carries it anyway. The refusal gets a code.
 */
function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: [CSRF_HEADER, 'authorization'] }) as Plugin;
  return {
    onRequestParse(payload) {
      try {
        return csrf.onRequestParse?.(payload);
      } catch (error) {
        throw Object.assign(error as Error, {
          extensions: { code: 'FORBIDDEN', http: { status: 403 } },
        });
      }
    },
  };
}
