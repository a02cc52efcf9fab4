import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { resolveSecretKey } from '../crypto/secret-key.js';
import { openDatabase, type Database } from '../db/client.js';
import type { Deps } from '../deps.js';
import { createLogger, type Logger } from '../logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { openPubSub, type PubSub } from '../pubsub/index.js';
import { createServices, type Services } from '../services.js';
import { requireViewer } from './auth.js';
import { isFileRequest, maxBodyBytes, serveFile } from '../files/http.js';
import { serveMetrics } from './metrics-route.js';
import { createGraphQLHandler, GRAPHQL_PATH } from './graphql-handler.js';
import { serveGraphQLOverWebSocket } from './websocket.js';
import { refuseUnboundedBody } from './http-limits.js';
import { createMemoryRateCounter, createRedisRateCounter, type RateCounter } from './rate-limit.js';
import { createSessionRegistry, type SessionRegistry } from './sessions.js';
import { createFirstAdminToken } from '../users/first-admin.js';
import { createDaemon, type Daemon } from '../daemon/daemon.js';
import { createCompactor } from '../daemon/compactor.js';
import { createToolRegistry } from '../tools/index.js';
import { createWorkspaceInstructions } from '../workspace/instructions.js';
import { createWorkspaceManager, type WorkspaceManager } from '../workspace/service.js';
import { CHANGING_TOOLS } from '../workspace/git-changes-service.js';
import { createMaintenance, type Maintenance } from '../maintenance/maintenance.js';

/** B3: a SIGTERM must end the process within 10 s; leave headroom for the exit itself. */
const SHUTDOWN_BUDGET_MS = 8_000;

export interface App {
  /** Opens the database (migrating it), pub/sub and the port; starts the daemon. */
  start(): Promise<{ url: string; port: number }>;
  /** Stops accepting work, returns running chats to PENDING, closes everything. Idempotent. */
  stop(): Promise<void>;
  /** Available after start(): for tests and scripts in the same process. */
  readonly deps: Deps;
  readonly services: Services;
  /** The daemon of this replica; undefined when DAEMON_ENABLED=false. */
  readonly daemon: Daemon | undefined;
  /** Workspaces and the agents embedded in this process; available after start(). */
  readonly workspaces: WorkspaceManager;
  /** Auto-archive, retention and workspace TTL (issue #13); runOnce() runs them now. */
  readonly maintenance: Maintenance;
  /** This replica's open WebSockets by token and user; available after start(). */
  readonly sessions: SessionRegistry;
}

/**
 * What one start() opened, in opening order. start() fills it as it goes, so a failure part-way
 * (the port in use, an unreachable Redis) closes exactly what was opened; after a successful
 * start it is the app's one slot of state.
 */
interface Opened {
  database?: Database;
  pubsub?: PubSub;
  sessions?: SessionRegistry;
  deps?: Deps;
  workspaces?: WorkspaceManager;
  services?: Services;
  maintenance?: Maintenance;
  rateCounter?: RateCounter;
  httpServer?: Server;
  wsServer?: WebSocketServer;
  disposeWs?: () => void | Promise<void>;
  daemon?: Daemon;
}

export function buildApp(config: Config, options: { logger?: Logger } = {}): App {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  let opened: Opened | undefined;
  let stopping: Promise<void> | undefined;

  function started<K extends keyof Opened>(key: K): NonNullable<Opened[K]> {
    const value = opened?.[key];
    if (value === undefined) throw new Error('App not started');
    return value as NonNullable<Opened[K]>;
  }

  async function start() {
    if (opened) throw new Error('App already started');
    const resources: Opened = {};
    opened = resources;
    try {
      return await open(resources);
    } catch (error) {
      // Unwind what this attempt opened, so a failed start leaves no connection, agent or timer
      // behind (the caller may retry, or exit without waiting for handles to drain).
      await close(resources);
      opened = undefined;
      throw error;
    }
  }

  async function open(resources: Opened) {
    const database = (resources.database = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      pgliteDataDir: `${config.DATA_DIR}/pglite`,
      onIdleConnectionError: (error) => logger.warn('idle database connection failed', { error }),
    }));
    const pubsub = (resources.pubsub = await openPubSub(config.REDIS_URL, logger, {
      onDroppedWrite: (what) => metrics.pubsubDroppedWrites.inc({ write: what }),
    }));
    const secretKey = await resolveSecretKey(config.SECRET_KEY, config.DATA_DIR);
    const sessions = (resources.sessions = createSessionRegistry({ pubsub, logger }));
    await sessions.start();
    const deps: Deps = (resources.deps = {
      prisma: database.prisma,
      sql: database.sql,
      pubsub,
      secretBox: createSecretBox(secretKey),
      config,
      logger,
      sessions,
      metrics,
    });
    const workspaces = (resources.workspaces = createWorkspaceManager(deps));
    const services = (resources.services = createServices(deps, { workspaces }));
    await services.mcpServers.start();
    if (config.BOOTSTRAP_ADMIN_TOKEN) {
      await services.users.bootstrapAdmin(config.BOOTSTRAP_ADMIN_TOKEN);
    } else if (!config.DATABASE_URL) {
      const tokenFile = await createFirstAdminToken(services.users, config.DATA_DIR);
      if (tokenFile)
        logger.info('created user admin; its API token is in the file', { file: tokenFile });
    }

    const maintenance = (resources.maintenance = createMaintenance(deps, workspaces));
    // With Redis the mutation limit holds across replicas; without, per process (one replica).
    const rateCounter = (resources.rateCounter = config.REDIS_URL
      ? createRedisRateCounter(config.REDIS_URL, logger)
      : createMemoryRateCounter());
    // The scrape's own query (one statement) is left out of the statement counter, so the
    // benchmark's statements per turn do not depend on how often it scrapes.
    let scrapeStatements = 0;
    metrics.setSources({
      statementCount: () => database.statementCount() - scrapeStatements,
      runningChats: () => resources.daemon?.running().length ?? 0,
      chatsByStatus: async () => {
        scrapeStatements += 1;
        const groups = await database.prisma.chat.groupBy({
          by: ['status'],
          where: { deletedAt: null },
          _count: { _all: true },
        });
        return groups.map((group) => ({ status: group.status, count: group._count._all }));
      },
    });
    const yoga = createGraphQLHandler({
      logger,
      metrics,
      ready: async () => {
        await Promise.all([database.ping(), pubsub.ping()]);
      },
      limits: config,
      rateLimit: {
        limit: config.MUTATION_RATE_LIMIT,
        windowMs: config.MUTATION_RATE_WINDOW_MS,
        counter: rateCounter,
        logger,
      },
      context: async (authorization) => ({
        viewer: await requireViewer(services.users, authorization),
        prisma: deps.prisma,
        pubsub,
        services,
      }),
    });

    const httpServer = (resources.httpServer = createServer((req, res) => {
      if (req.url === '/healthz') return plain(res, 200, 'ok');
      if (req.url === '/metrics')
        return serveMetrics(req, res, { metrics, token: config.METRICS_TOKEN, logger });
      if (isFileRequest(req)) {
        serveFile(req, res, services).catch((error: unknown) => {
          logger.error('serving a file failed', { error });
          plain(res, 500, 'internal error');
        });
        return;
      }
      if (refuseUnboundedBody(req, res, maxBodyBytes(req, config))) return;
      void yoga.requestListener(req, res);
    }));

    // maxPayload: ws refuses a larger frame from its header (1009) instead of buffering it; its
    // default is 100 MiB, before any authentication (issue #8, row 6).
    const wsServer = (resources.wsServer = new WebSocketServer({
      server: httpServer,
      path: GRAPHQL_PATH,
      maxPayload: config.WS_MAX_PAYLOAD_BYTES,
    }));
    const wsHandle = serveGraphQLOverWebSocket({
      wsServer,
      yoga,
      users: services.users,
      sessions,
      limits: config,
      logger,
    });
    resources.disposeWs = () => wsHandle.dispose();

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.PORT, config.HOST, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const { port } = httpServer.address() as AddressInfo;
    const url = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}${GRAPHQL_PATH}`;
    if (config.DAEMON_ENABLED) {
      const daemon = (resources.daemon = createDaemon(
        {
          deps,
          tools: createToolRegistry(deps, { workspaces, chats: services.chats }),
          instructionsFor: createWorkspaceInstructions(workspaces, logger),
          mcpToolsFor: (chat, signal) => services.mcpServers.toolsForTurn(chat, signal),
          titles: services.titles,
          maxSteps: config.CHAT_MAX_STEPS,
          compaction: createCompactor(deps),
          beforeTurn: (chat) => services.rewind.beforeTurn(chat),
          afterTool: (chat, toolName) => {
            if (CHANGING_TOOLS.has(toolName)) {
              void services.gitChanges.changed(chat.rootId ?? chat.id, toolName);
            }
          },
        },
        {
          workerId: config.WORKER_ID,
          acquireIntervalMs: config.CHAT_ACQUIRE_INTERVAL_MS,
          heartbeatIntervalMs: config.CHAT_HEARTBEAT_INTERVAL_MS,
          staleAfterMs: config.CHAT_STALE_AFTER_MS,
          acquireBatch: config.CHAT_ACQUIRE_BATCH,
          maxConcurrent: config.CHAT_MAX_CONCURRENT,
        },
      ));
      await daemon.start();
      // Housekeeping from the deployment settings runs beside the daemon (issue #13).
      maintenance.start();
    }
    logger.info('agentgraph listening', {
      url,
      database: database.kind,
      pubsub: config.REDIS_URL ? 'redis' : 'in-process',
    });
    return { url, port };
  }

  /** Closes what `resources` holds, in shutdown order; what was never opened is skipped. */
  async function close(resources: Opened) {
    const { httpServer } = resources;
    const deadline = setTimeout(() => {
      logger.error('shutdown budget exceeded; closing connections');
      httpServer?.closeAllConnections();
    }, SHUTDOWN_BUDGET_MS);
    deadline.unref();
    try {
      // B3: stop acquiring and running turns first (they persist and go back to PENDING),
      // then close subscriptions and connections.
      await resources.daemon?.stop();
      await resources.maintenance?.stop();
      // Only now: the stopped turns no longer call the agents (their processes die with them).
      await resources.workspaces?.close();
      await resources.services?.mcpServers
        .close()
        .catch((error: unknown) => logger.warn('closing MCP connections failed', { error }));
      await resources.disposeWs?.();
      resources.wsServer?.close();
      await resources.sessions?.stop();
      await resources.rateCounter?.close();
      if (httpServer?.listening) {
        httpServer.closeIdleConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
      // Closing is best effort: a broker or database that is already gone must not turn a clean
      // shutdown (B3: exit 0) into a failure.
      await resources.pubsub
        ?.close()
        .catch((error: unknown) => logger.warn('closing pub/sub failed', { error }));
      await resources.database
        ?.close()
        .catch((error: unknown) => logger.warn('closing the database failed', { error }));
    } finally {
      clearTimeout(deadline);
    }
  }

  return {
    start,
    // Nothing to close when start() never ran or failed (it unwound itself).
    stop: () => (stopping ??= opened ? close(opened) : Promise.resolve()),
    get daemon() {
      return opened?.daemon;
    },
    get maintenance() {
      return started('maintenance');
    },
    get deps() {
      return started('deps');
    },
    get services() {
      return started('services');
    },
    get workspaces() {
      return started('workspaces');
    },
    get sessions() {
      return started('sessions');
    },
  };
}

function plain(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}
