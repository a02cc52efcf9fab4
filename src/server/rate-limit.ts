import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { GraphQLContext } from '../graphql/context.js';
import type { Logger } from '../logger.js';

/** Counts hits per key in fixed windows; resolves to the count including this hit. */
export interface RateCounter {
  hit(key: string, windowMs: number): Promise<number>;
  close(): Promise<void>;
}

const KEY_PREFIX = 'agentgraph:ratelimit:mutations:';
const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * One process's counters. A window opens at a key's first hit and lasts `windowMs` (not aligned
 * to the clock): cheap, and a client can at most double the rate across a window boundary.
 */
export function createMemoryRateCounter(now: () => number = Date.now): RateCounter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async hit(key, windowMs) {
      const at = now();
      const entry = windows.get(key);
      if (!entry || at - entry.start >= windowMs) {
        // One entry per user that ever mutated (bounded by the user table), reset per window.
        windows.set(key, { start: at, count: 1 });
        return 1;
      }
      entry.count += 1;
      return entry.count;
    },
    async close() {
      windows.clear();
    },
  };
}

/**
 * Counters in Redis, shared by every replica, with the same windows as the memory counter: one
 * MULTI per mutation creates the key with its expiry when absent (SET NX PX) and increments it.
 * Its own connection, which never queues commands while Redis is down, so a hit then fails at once.
 */
export function createRedisRateCounter(url: string, logger: Logger): RateCounter {
  const client = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  let lastErrorLog = 0;
  client.on('error', (error: Error) => {
    // ioredis emits on every reconnect attempt; one line a minute is enough.
    if (Date.now() - lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    lastErrorLog = Date.now();
    logger.warn('rate limit Redis connection error', { error: error.message });
  });
  return {
    async hit(key, windowMs) {
      const redisKey = `${KEY_PREFIX}${key}`;
      const results = await client
        .multi()
        .set(redisKey, 0, 'PX', windowMs, 'NX')
        .incr(redisKey)
        .exec();
      const [error, count] = results?.[1] ?? [new Error('empty MULTI result'), null];
      if (error) throw error;
      return Number(count);
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

export interface MutationRateLimit {
  /** Mutations per window per user. */
  limit: number;
  windowMs: number;
  counter: RateCounter;
  logger: Logger;
}

/**
 * At most `limit` mutations per user per window (issue #8, partials), over HTTP and WebSocket
 * alike. A refused mutation executes nothing and answers RATE_LIMITED (HTTP 429). When the
 * counter fails (Redis down) the mutation is allowed: the limit guards against floods, and a
 * broker outage must not take every write down with it (logged).
 */
export function useMutationRateLimit(options: MutationRateLimit): Plugin<GraphQLContext> {
  const { limit, windowMs, counter, logger } = options;
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const viewer = (args.contextValue as Partial<GraphQLContext>).viewer;
      if (!viewer) return;
      let count: number;
      try {
        count = await counter.hit(viewer.id, windowMs);
      } catch (error) {
        logger.warn('mutation rate limit unavailable; allowing', { error });
        return;
      }
      if (count <= limit) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            `Too many mutations: at most ${limit} per ${windowMs / 1000} s; try again later`,
            { extensions: { code: 'RATE_LIMITED', http: { status: 429 } } },
          ),
        ],
      });
    },
  };
}
