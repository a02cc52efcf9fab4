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

export function buildApp(config: Config, options: { logger?: Logger } = {}): App {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  let database: Database | undefined;
  let pubsub: PubSub | undefined;
  let deps: Deps | undefined;
  let services: Services | undefined;
  let httpServer: Server | undefined;
  let wsServer: WebSocketServer | undefined;
  let disposeWs: (() => void | Promise<void>) | undefined;
  let sessions: SessionRegistry | undefined;
  let rateCounter: RateCounter | undefined;
  let daemon: Daemon | undefined;
  let workspaces: WorkspaceManager | undefined;
  let maintenance: Maintenance | undefined;
  let stopping: Promise<void> | undefined;

  async function start() {
    database = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      pgliteDataDir: `${config.DATA_DIR}/pglite`,
    });
    pubsub = await openPubSub(config.REDIS_URL, logger, {
      onDroppedWrite: (what) => metrics.pubsubDroppedWrites.inc({ write: what }),
    });
    const secretKey = await resolveSecretKey(config.SECRET_KEY, config.DATA_DIR);
    sessions = createSessionRegistry({ pubsub, logger });
    await sessions.start();
    deps = {
      prisma: database.prisma,
      pubsub,
      secretBox: createSecretBox(secretKey),
      config,
      logger,
      sessions,
      metrics,
    };
    workspaces = createWorkspaceManager(deps);
    services = createServices(deps, { workspaces });
    await services.mcpServers.start();
    if (config.BOOTSTRAP_ADMIN_TOKEN) {
      await services.users.bootstrapAdmin(config.BOOTSTRAP_ADMIN_TOKEN);
    } else if (!config.DATABASE_URL) {
      const tokenFile = await createFirstAdminToken(services.users, config.DATA_DIR);
      if (tokenFile)
        logger.info('created user admin; its API token is in the file', { file: tokenFile });
    }

    const appServices = services;
    const appDeps = deps;
    const appWorkspaces = workspaces;
    maintenance = createMaintenance(deps, workspaces);
    const db = database;
    const bus = pubsub;
    const openSessions = sessions;
    // With Redis the mutation limit holds across replicas; without, per process (one replica).
    rateCounter = config.REDIS_URL
      ? createRedisRateCounter(config.REDIS_URL, logger)
      : createMemoryRateCounter();
    // The scrape's own query (one statement) is left out of the statement counter, so the
    // benchmark's statements per turn do not depend on how often it scrapes.
    let scrapeStatements = 0;
    metrics.setSources({
      statementCount: () => db.statementCount() - scrapeStatements,
      runningChats: () => daemon?.running().length ?? 0,
      chatsByStatus: async () => {
        scrapeStatements += 1;
        const groups = await db.prisma.chat.groupBy({
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
        await Promise.all([db.ping(), bus.ping()]);
      },
      limits: config,
      rateLimit: {
        limit: config.MUTATION_RATE_LIMIT,
        windowMs: config.MUTATION_RATE_WINDOW_MS,
        counter: rateCounter,
        logger,
      },
      context: async (authorization) => ({
        viewer: await requireViewer(appServices.users, authorization),
        prisma: appDeps.prisma,
        pubsub: bus,
        services: appServices,
      }),
    });

    httpServer = createServer((req, res) => {
      if (req.url === '/healthz') return plain(res, 200, 'ok');
      if (req.url === '/metrics')
        return serveMetrics(req, res, { metrics, token: config.METRICS_TOKEN, logger });
      if (isFileRequest(req)) {
        serveFile(req, res, appServices).catch(() => plain(res, 500, 'internal error'));
        return;
      }
      if (refuseUnboundedBody(req, res, maxBodyBytes(req, config))) return;
      void yoga.requestListener(req, res);
    });

    // maxPayload: ws refuses a larger frame from its header (1009) instead of buffering it; its
    // default is 100 MiB, before any authentication (issue #8, row 6).
    wsServer = new WebSocketServer({
      server: httpServer,
      path: GRAPHQL_PATH,
      maxPayload: config.WS_MAX_PAYLOAD_BYTES,
    });
    const wsHandle = serveGraphQLOverWebSocket({
      wsServer,
      yoga,
      users: appServices.users,
      sessions: openSessions,
      limits: config,
      logger,
    });
    disposeWs = () => wsHandle.dispose();

    const server = httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}${GRAPHQL_PATH}`;
    if (config.DAEMON_ENABLED) {
      daemon = createDaemon(
        {
          deps: appDeps,
          tools: createToolRegistry(appDeps, {
            workspaces: appWorkspaces,
            chats: appServices.chats,
          }),
          instructionsFor: createWorkspaceInstructions(appWorkspaces, logger),
          mcpToolsFor: (chat, signal) => appServices.mcpServers.toolsForTurn(chat, signal),
          titles: appServices.titles,
          maxSteps: config.CHAT_MAX_STEPS,
          compaction: createCompactor(appDeps),
          beforeTurn: (chat) => appServices.rewind.beforeTurn(chat),
          afterTool: (chat, toolName) => {
            if (CHANGING_TOOLS.has(toolName)) {
              void appServices.gitChanges.changed(chat.rootId ?? chat.id, toolName);
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
      );
      await daemon.start();
      // Housekeeping from the deployment settings runs beside the daemon (issue #13).
      maintenance.start();
    }
    logger.info('agentgraph listening', {
      url,
      database: db.kind,
      pubsub: config.REDIS_URL ? 'redis' : 'in-process',
    });
    return { url, port };
  }

  async function shutdown() {
    const deadline = setTimeout(() => {
      logger.error('shutdown budget exceeded; closing connections');
      httpServer?.closeAllConnections();
    }, SHUTDOWN_BUDGET_MS);
    deadline.unref();
    try {
      // B3: stop acquiring and running turns first (they persist and go back to PENDING),
      // then close subscriptions and connections.
      await daemon?.stop();
      await maintenance?.stop();
      // Only now: the stopped turns no longer call the agents (their processes die with them).
      await workspaces?.close();
      await services?.mcpServers
        .close()
        .catch((error: unknown) => logger.warn('closing MCP connections failed', { error }));
      await disposeWs?.();
      wsServer?.close();
      await sessions?.stop();
      await rateCounter?.close();
      if (httpServer?.listening) {
        httpServer.closeIdleConnections();
        await new Promise<void>((resolve) => httpServer!.close(() => resolve()));
      }
      // Closing is best effort: a broker or database that is already gone must not turn a clean
      // shutdown (B3: exit 0) into a failure.
      await pubsub
        ?.close()
        .catch((error: unknown) => logger.warn('closing pub/sub failed', { error }));
      await database
        ?.close()
        .catch((error: unknown) => logger.warn('closing the database failed', { error }));
    } finally {
      clearTimeout(deadline);
    }
  }

  return {
    start,
    stop: () => (stopping ??= shutdown()),
    get daemon() {
      return daemon;
    },
    get maintenance() {
      if (!maintenance) throw new Error('App not started');
      return maintenance;
    },
    get deps() {
      if (!deps) throw new Error('App not started');
      return deps;
    },
    get services() {
      if (!services) throw new Error('App not started');
      return services;
    },
    get workspaces() {
      if (!workspaces) throw new Error('App not started');
      return workspaces;
    },
    get sessions() {
      if (!sessions) throw new Error('App not started');
      return sessions;
    },
  };
}

function plain(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}
