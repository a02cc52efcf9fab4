import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { GraphQLError } from 'graphql';
import { createYoga, useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import type { GraphQLContext } from '../graphql/context.js';
import { toPublicError, useInputErrorCodes } from '../graphql/errors.js';
import { buildSchema } from '../graphql/schema.js';
import { graphiqlOptions, renderOfflineGraphiQL } from './graphiql.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
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
  /** Registry for the GraphQL metrics (operations, errors, durations, open subscriptions). */
  metrics?: Metrics;
  /** GET /readyz: 200 when this resolves, 503 when it rejects (database or pub/sub down). */
  ready?: () => Promise<void>;
}) {
  const { logger, limits } = options;
  const allowedOrigins = new Set(limits.CORS_ORIGINS);
  return createYoga<ServerContext, GraphQLContext>({
    schema: enforcePageSizeLimit(buildSchema()),
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: renderOfflineGraphiQL,
    plugins: [
      useInputErrorCodes(),
      useStorableInput(),
      useCsrfPrevention(),
      ...queryLimitPlugins(limits),
      ...(options.rateLimit ? [useMutationRateLimit(options.rateLimit) as Plugin] : []),
      ...(options.metrics ? graphqlMetricsPlugins(options.metrics) : []),
      ...(options.ready ? [readinessCheck(options.ready)] : []),
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

/** Yoga's readiness check at /readyz; the failure's message is not sent (it may name hosts). */
function readinessCheck(ready: () => Promise<void>): Plugin {
  return useReadinessCheck({
    endpoint: '/readyz',
    check: () =>
      ready().then(
        () => true,
        () => false,
      ),
  });
}

/**
 * Yoga's Prometheus plugin on the app's registry (served by app.ts with the daemon's metrics, so
 * not on an endpoint of its own), and a gauge of the subscriptions open now (HTTP and WebSocket).
 */
function graphqlMetricsPlugins(metrics: Metrics): Plugin[] {
  const open = metrics.activeSubscriptions;
  const countOpen: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: ({ result }) => {
        if (!(Symbol.asyncIterator in result)) return;
        open.inc();
        return { onEnd: () => open.dec() };
      },
    }),
  };
  return [usePrometheus({ registry: metrics.registry, endpoint: false }), countOpen];
}

/** A header a cross-site form cannot set: its presence means a CORS preflight happened. */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Content types a plain HTML form (or a "simple" fetch) can send without a CORS preflight. */
const FORM_CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
];

/**
 * CSRF prevention. A POST must be JSON (or another type only a preflighted request can send):
 * form-encoded and text/plain bodies are refused whatever their headers, and so is multipart
 * unless it carries Authorization or the CSRF header (uploadFile), which a form cannot set: a
 * form must never run a mutation. Any other request without a body type
 * (a GET) goes through Yoga's CSRF prevention: it needs a header that forces a CORS preflight.
 * Authorization counts: a browser adds it only after a preflight, and every authenticated request
 * carries it anyway. Refusals are FORBIDDEN (403) and run nothing.
 */
function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: [CSRF_HEADER, 'authorization'] }) as Plugin;
  const refuse = (message: string) =>
    new GraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
  return {
    onRequestParse(payload) {
      const { headers } = payload.request;
      const contentType = headers.get('content-type')?.toLowerCase() ?? '';
      // An upload (issue #10) is multipart; a form can send that but cannot add these headers.
      const preflighted = headers.has(CSRF_HEADER) || headers.has('authorization');
      const upload = contentType.startsWith('multipart/form-data') && preflighted;
      if (!upload && FORM_CONTENT_TYPES.some((type) => contentType.startsWith(type))) {
        throw refuse('GraphQL requests must be sent as application/json');
      }
      try {
        return csrf.onRequestParse?.(payload);
      } catch {
        throw refuse(`Required CSRF header missing: send ${CSRF_HEADER} or Authorization`);
      }
    },
  };
}
