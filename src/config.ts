import { z } from 'zod';

import { workspaceSandboxEnv } from './workspace/sandbox-settings.js';

/**
 * Environment, parsed and validated once at start (B2). A bad value stops the process with a
 * message naming the variable; nothing else in the code reads process.env for settings.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  /** HTTP + WebSocket port. Default 4000; 0 picks a free port (tests). */
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  /** Host to bind. Default 0.0.0.0 so containers can reach it. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Postgres URL. Unset: embedded PGlite under DATA_DIR. */
  DATABASE_URL: optionalString.pipe(
    z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  ),
  /** Redis URL. Unset: in-process pub/sub, valid for a single process only. */
  REDIS_URL: optionalString.pipe(
    z.url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' }).optional(),
  ),
  /** Embedded database and generated secret live here. Default ./data. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Encrypts provider API keys. Generated under DATA_DIR in embedded mode; required otherwise. */
  SECRET_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. Default: open. */
  METRICS_TOKEN: optionalString.pipe(
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  /** When set and no user exists, creates user `admin` (ADMIN) whose API token is this value. */
  BOOTSTRAP_ADMIN_TOKEN: optionalString.pipe(
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  /** Where workspaces are created. Default DATA_DIR/workspaces. */
  WORKSPACES_DIR: optionalString,
  /** Where workspace templates are read from. Default ./templates. */
  TEMPLATES_DIR: z.string().min(1).default('./templates'),
  CHAT_ACQUIRE_INTERVAL_MS: positiveInt(1000),
  CHAT_HEARTBEAT_INTERVAL_MS: positiveInt(30_000),
  CHAT_STALE_AFTER_MS: positiveInt(120_000),
  /** Chats acquired per statement, per replica. */
  CHAT_ACQUIRE_BATCH: positiveInt(100),
  /**
   * Most chats one replica runs at once. Turns wait on the model and on tools, not on this
   * process's CPU, so the default is high. Measured: 200 running turns add about 50 MB of RSS
   * (251 → 300 MB), some 250 KB per turn (its model connection, buffers and state).
   */
  CHAT_MAX_CONCURRENT: positiveInt(200),
  /**
   * A message's text/reasoning deltas are merged for this long before one part is published
   * (B14 allows at most 25 ms; tests raise it to make the merge deterministic). 0 disables it.
   */
  CHAT_STREAM_COALESCE_MS: z.coerce.number().int().min(0).max(60_000).default(25),
  /** Model steps per turn before the turn stops (B10). */
  CHAT_MAX_STEPS: positiveInt(50),
  /** Disable the daemon in this process (API-only replicas, some tests). */
  DAEMON_ENABLED: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  /** Stable id of this replica's worker; default hostname:pid:random. */
  WORKER_ID: optionalString,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Longest silence of a model provider: before the response headers and between two chunks of
   * a stream. Past it the call fails as a transient provider error (retried, then ERROR), so a
   * stalled provider cannot hold a chat RUNNING. Default 2 minutes.
   */
  LLM_STREAM_IDLE_TIMEOUT_MS: positiveInt(120_000),
  /**
   * Longest an MCP tool call may take (issue #12); past it the model gets an error result and the
   * turn goes on. Default 2 minutes.
   */
  MCP_CALL_TIMEOUT_MS: positiveInt(120_000),
  /**
   * Longest connecting to an MCP server and listing its tools may take at the start of a turn;
   * a server that does not answer in time is left out of that turn. Default 10 s.
   */
  MCP_CONNECT_TIMEOUT_MS: positiveInt(10_000),
  /**
   * Allow provider base URLs in link-local / cloud metadata ranges (169.254.0.0/16, fe80::/10,
   * fd00:ec2::254, 100.100.100.200, metadata.google.internal, ...). Default false. Loopback and
   * other private addresses (a self-hosted model server) are always allowed.
   */
  ALLOW_PRIVATE_PROVIDER_URLS: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  /** WORKSPACE_SANDBOX, WORKSPACE_NETWORK, WORKSPACE_LIMIT_*: see workspace/sandbox-settings.ts. */
  ...workspaceSandboxEnv,
  // API abuse limits (issue #8). Defaults leave every normal client operation far below them.
  /** Deepest selection set an operation may have (graphql-armor max depth). */
  GRAPHQL_MAX_DEPTH: positiveInt(12),
  /** Aliases per operation (graphql-armor); 1000 aliases of one costly field is the attack. */
  GRAPHQL_MAX_ALIASES: positiveInt(30),
  /** Directives per operation (graphql-armor). */
  GRAPHQL_MAX_DIRECTIVES: positiveInt(50),
  /** Lexical tokens per document (graphql-armor): parsing stops at the limit. */
  GRAPHQL_MAX_TOKENS: positiveInt(5_000),
  /** Static cost of an operation (graphql-armor: objects 2, scalars 1, x1.5 per depth level). */
  GRAPHQL_MAX_COST: positiveInt(20_000),
  /** Characters of query text per operation, checked before parsing. */
  GRAPHQL_MAX_QUERY_LENGTH: positiveInt(100_000),
  /** Bytes of an HTTP request body; larger bodies get 413 without being read. */
  HTTP_MAX_BODY_BYTES: positiveInt(1_048_576),
  /** Bytes of one uploaded file (uploadFile, issue #10); multipart bodies may be this big. */
  FILE_MAX_BYTES: positiveInt(10 * 1024 * 1024),
  /** Files one message may reference (fileIds). */
  MESSAGE_MAX_FILES: positiveInt(20),
  /** Comma-separated origins allowed to call the API from a browser; empty: same origin only. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
    )
    .pipe(
      z.array(
        z
          .url({ error: 'must be a comma-separated list of origins like https://app.example.com' })
          .refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin, {
            error: 'each origin is scheme://host[:port], without a path or a trailing slash',
          }),
      ),
    ),
  /** Largest WebSocket frame/message in bytes; larger ones close the socket (1009). */
  WS_MAX_PAYLOAD_BYTES: positiveInt(1_048_576),
  /** Operations in flight on one WebSocket; more are refused with LIMIT_EXCEEDED. */
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt(100),
  /** Open WebSockets per user on one replica; more are closed with 4429. */
  WS_MAX_SOCKETS_PER_USER: positiveInt(100),
  /** Bytes queued for a WebSocket that does not read; above it the socket is closed (1013). */
  WS_MAX_BUFFERED_BYTES: positiveInt(8_388_608),
  /** Mutations one user may run per MUTATION_RATE_WINDOW_MS (all replicas together with Redis). */
  MUTATION_RATE_LIMIT: positiveInt(1_200),
  MUTATION_RATE_WINDOW_MS: positiveInt(60_000),
});

export type Config = z.infer<typeof envSchema> & { WORKSPACES_DIR: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = parsed.data;
  if (config.DATABASE_URL && !config.SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  SECRET_KEY: required when DATABASE_URL is set (it encrypts provider API keys)',
    );
  }
  if (config.CHAT_STALE_AFTER_MS <= config.CHAT_HEARTBEAT_INTERVAL_MS) {
    throw new ConfigError(
      'Invalid configuration:\n  CHAT_STALE_AFTER_MS: must be greater than CHAT_HEARTBEAT_INTERVAL_MS',
    );
  }
  return { ...config, WORKSPACES_DIR: config.WORKSPACES_DIR ?? `${config.DATA_DIR}/workspaces` };
}
