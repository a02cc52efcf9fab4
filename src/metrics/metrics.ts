import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The daemon's and server's Prometheus metrics (GET /metrics). One registry per app, not
 * prom-client's global one: tests run several apps in one process, and each must report its own.
 * GraphQL operations, errors and durations come from Yoga's Prometheus plugin on the same registry
 * (graphql-handler.ts); the process figures (CPU, memory, event loop) from prom-client's defaults.
 */
export type Metrics = ReturnType<typeof createMetrics>;

/** What the scrape reads at collection time rather than counting as it happens. */
export interface MetricsSources {
  /** SQL statements sent since the database was opened (db/client.ts). */
  statementCount(): number;
  /** Turns this replica runs now. */
  runningChats(): number;
  /** Live chats per status, across all replicas (one grouped query per scrape). */
  chatsByStatus(): Promise<Array<{ status: string; count: number }>>;
}

/** Seconds: from sub-millisecond SQL to many-minute agent turns. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TURN_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export function createMetrics() {
  const registry = new Registry();
  // The event-loop-lag histogram samples on a libuv timer: at prom-client's default 10 ms that is
  // 100 wake-ups a second, about 12 ms/s of an idle replica's CPU (issue #9); every 100 ms it
  // costs ~1 ms/s and still catches any stall worth a look.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const registers = [registry];
  let sources: MetricsSources | undefined;

  new Counter({
    name: 'agentgraph_sql_statements_total',
    help: 'SQL statements sent to the database by this process (BEGIN and COMMIT included).',
    registers,
    collect() {
      this.reset();
      this.inc(sources?.statementCount() ?? 0);
    },
  });
  new Gauge({
    name: 'agentgraph_chats_running',
    help: 'Turns this replica is running now.',
    registers,
    collect() {
      this.set(sources?.runningChats() ?? 0);
    },
  });
  new Gauge({
    name: 'agentgraph_chats',
    help: 'Chats (not deleted) by status, across all replicas.',
    labelNames: ['status'],
    registers,
    async collect() {
      this.reset();
      for (const { status, count } of (await sources?.chatsByStatus()) ?? []) {
        this.set({ status }, count);
      }
    },
  });

  return {
    registry,
    /** Connects the figures read at scrape time; until then they read 0. */
    setSources(next: MetricsSources) {
      sources = next;
    },
    acquireDuration: new Histogram({
      name: 'agentgraph_chat_acquire_duration_seconds',
      help: 'Duration of one acquire of PENDING chats by this replica.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    turnDuration: new Histogram({
      name: 'agentgraph_turn_duration_seconds',
      help: 'Duration of a turn, from acquire to its final state, by how it ended.',
      labelNames: ['outcome'],
      buckets: TURN_BUCKETS,
      registers,
    }),
    timeToFirstToken: new Histogram({
      name: 'agentgraph_turn_time_to_first_token_seconds',
      help: "From a turn's first model call to the first streamed part of its answer, by model.",
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    tokens: new Counter({
      name: 'agentgraph_llm_tokens_total',
      help: 'Tokens reported by the provider, by model and kind (input, output, reasoning, cache).',
      labelNames: ['model', 'kind'],
      registers,
    }),
    costUsd: new Counter({
      name: 'agentgraph_llm_cost_usd_total',
      help: "Cost of the model calls, at the model config's prices, by model.",
      labelNames: ['model'],
      registers,
    }),
    providerErrors: new Counter({
      name: 'agentgraph_llm_errors_total',
      help: 'Model calls that ended a turn in ERROR, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    providerRetries: new Counter({
      name: 'agentgraph_llm_retries_total',
      help: 'Model calls retried after a transient failure, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    toolCalls: new Counter({
      name: 'agentgraph_tool_calls_total',
      help: 'Tool calls, by tool and whether the result was an error.',
      labelNames: ['tool', 'result'],
      registers,
    }),
    toolDuration: new Histogram({
      name: 'agentgraph_tool_duration_seconds',
      help: 'Duration of a tool call, by tool.',
      labelNames: ['tool'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    activeSubscriptions: new Gauge({
      name: 'agentgraph_graphql_subscriptions_active',
      help: 'GraphQL subscriptions open on this replica.',
      registers,
    }),
    pubsubDroppedWrites: new Counter({
      name: 'agentgraph_pubsub_dropped_writes_total',
      help: 'Pub/sub publishes and stream-buffer writes dropped because the broker failed.',
      labelNames: ['write'],
      registers,
    }),
    leaseLosses: new Counter({
      name: 'agentgraph_lease_losses_total',
      help: 'Turns stopped because this replica no longer held the chat (stale, recovered).',
      registers,
    }),
  };
}

/**
 * A provider failure's kind for the error and retry counters: few values, so the series stay
 * few. From the HTTP status when there is one.
 */
export function providerErrorKind(status: number | undefined): string {
  if (status === undefined) return 'network';
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return 'server';
  return 'request';
}

const TOKEN_KINDS = {
  input: 'inputTokens',
  output: 'outputTokens',
  reasoning: 'reasoningTokens',
  cache_read: 'cacheReadTokens',
  cache_write: 'cacheWriteTokens',
} as const;

/** One model step's tokens and cost (costMicros: micro-dollars, as stored on the message). */
export function recordStepUsage(
  metrics: Metrics | undefined,
  model: string,
  usage: Record<(typeof TOKEN_KINDS)[keyof typeof TOKEN_KINDS], number> | null,
  costMicros: number,
) {
  if (!metrics || !usage) return;
  for (const [kind, field] of Object.entries(TOKEN_KINDS)) {
    if (usage[field] > 0) metrics.tokens.inc({ model, kind }, usage[field]);
  }
  if (costMicros > 0) metrics.costUsd.inc({ model }, costMicros / 1e6);
}

/** Runs a tool call, counting it by result and timing it. */
export async function timedToolCall<T extends { isError: boolean }>(
  metrics: Metrics | undefined,
  tool: string,
  call: () => Promise<T>,
): Promise<T> {
  const end = metrics?.toolDuration.startTimer({ tool });
  const outcome = await call();
  end?.();
  metrics?.toolCalls.inc({ tool, result: outcome.isError ? 'error' : 'ok' });
  return outcome;
}
