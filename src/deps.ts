import type { Config } from './config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { PrismaClient } from './db/client.js';
import type { Sql } from './db/sql.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics/metrics.js';
import type { PubSub } from './pubsub/index.js';
import type { SessionControl } from './server/sessions.js';

/** What every domain service is built from. Resolvers and the daemon share these instances. */
export interface Deps {
  prisma: PrismaClient;
  /** The same database without Prisma's interpreter: the daemon's per-turn statements (issue #9). */
  sql: Sql;
  pubsub: PubSub;
  secretBox: SecretBox;
  config: Config;
  logger: Logger;
  /**
   * Ends a token's or user's access at once: closes their WebSockets on every replica. Set by the
   * server (app.ts); absent where no sockets exist (scripts, daemon-only tests).
   */
  sessions?: SessionControl;
  /** This app's Prometheus metrics (GET /metrics). Absent in scripts and tests without a server. */
  metrics?: Metrics;
}

export interface Viewer {
  id: string;
  username: string;
  role: 'ADMIN' | 'MEMBER';
}

export const isAdmin = (viewer: Viewer) => viewer.role === 'ADMIN';
