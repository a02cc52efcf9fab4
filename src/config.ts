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
  /** Chats acquired per tick, per replica. */
  CHAT_ACQUIRE_BATCH: positiveInt(10),
  /** Most chats one replica runs at once. */
  CHAT_MAX_CONCURRENT: positiveInt(20),
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
