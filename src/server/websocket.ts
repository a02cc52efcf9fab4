import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, parse, type ExecutionArgs, type execute } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config.js';
import { hashToken } from '../crypto/tokens.js';
import { toPublicError } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import type { UserService } from '../users/service.js';
import { bearerToken } from './auth.js';
import { GRAPHQL_PATH, type GraphQLHandler } from './graphql-handler.js';
import { CLOSE_CODES, type Session, type SessionRegistry } from './sessions.js';

type OperationResult = ReturnType<typeof execute>;

/** How long dispose() waits for closed sockets' subscriptions to end before it gives up. */
const DRAIN_TIMEOUT_MS = 2_000;
/** A slow consumer closed for its send buffer gets this long to take the close frame. */
const SLOW_CONSUMER_GRACE_MS = 5_000;
/** Frames batched into one socket write are flushed once they reach this many bytes. */
const MAX_BATCH_BYTES = 64 * 1024;
interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}

export type WebSocketLimits = Pick<
  Config,
  'WS_MAX_SUBSCRIPTIONS_PER_SOCKET' | 'WS_MAX_SOCKETS_PER_USER' | 'WS_MAX_BUFFERED_BYTES'
>;

/**
 * graphql-ws (`graphql-transport-ws`) on the GraphQL path. Each operation runs through Yoga's own
 * envelop, so it gets the same context (with connectionParams.authorization), plugins (query
 * limits, rate limit) and masking as HTTP.
 *
 * The socket itself is authenticated in connection_init: no token or a bad one closes it with
 * 4403 before any operation, and it is registered by token and user so that revoking access
 * closes it (sessions.ts). Each operation still checks the token again through the context.
 * Limits (issue #8, row 7): sockets per user (4429), operations in flight per socket
 * (LIMIT_EXCEEDED for the extra one; the socket stays), and bytes queued for a client that does
 * not read (1013, see limitSendBuffer). The frame size limit is the ws server's `maxPayload` (app.ts).
 * Errors before execution (a syntax or validation error, a query limit) are answered with coded
 * errors for that operation; the socket stays open.
 */
export function serveGraphQLOverWebSocket(options: {
  wsServer: WebSocketServer;
  yoga: GraphQLHandler;
  users: UserService;
  sessions: SessionRegistry;
  limits: WebSocketLimits;
  logger: Logger;
}) {
  const { wsServer, yoga, users, sessions, limits, logger } = options;
  const publicError = (error: unknown) =>
    toPublicError(error, (internal) =>
      logger.error('internal error in WebSocket operation', { error: internal }),
    );
  const sessionOf = new WeakMap<WebSocket, Session>();
  // Sockets whose subscriptions have not all ended. A subscription unsubscribes from pub/sub as it
  // ends, after its socket closed; the app closes pub/sub right after dispose(), and an
  // unsubscribe that comes later fails on the closed Redis connection (SIGTERM then exits 1).
  const open = new Set<WebSocket>();
  let drained: (() => void) | undefined;
  wsServer.on('connection', (socket) => open.add(socket));
  const handle = useServer<Record<string, unknown>, { request: IncomingMessage }>(
    {
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        const authorization = ctx.connectionParams?.['authorization'];
        const token = typeof authorization === 'string' ? bearerToken(authorization) : null;
        if (!token) return false;
        const session = sessions.open(socket, hashToken(token));
        sessionOf.set(socket, session);
        const viewer = await users.authenticate(token).catch((error: unknown) => {
          logger.error('WebSocket authentication failed', { error });
          socket.close(CLOSE_CODES.internalError, 'Internal error');
          return null;
        });
        // Closed meanwhile: the token was revoked while it was being checked.
        if (!viewer || socket.readyState !== socket.OPEN) return false;
        if (!sessions.assignUser(session, viewer.id, limits.WS_MAX_SOCKETS_PER_USER)) {
          logger.warn('WebSocket refused: too many sockets for one user', { userId: viewer.id });
          sessions.close(session, CLOSE_CODES.tooManySockets, 'Too many sockets for this user');
          return false;
        }
        return true;
      },
      onClose: (ctx) => {
        open.delete(ctx.extra.socket);
        if (open.size === 0) drained?.();
      },
      execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        // graphql-ws registers the operation before calling this hook, synchronously on receipt,
        // so a burst of subscribe messages is counted here in full.
        if (Object.keys(ctx.subscriptions).length > limits.WS_MAX_SUBSCRIPTIONS_PER_SOCKET) {
          return [
            new GraphQLError(
              `At most ${limits.WS_MAX_SUBSCRIPTIONS_PER_SOCKET} operations at once on one socket`,
              { extensions: { code: 'LIMIT_EXCEEDED' } },
            ),
          ];
        }
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          request: new Request(`http://localhost${GRAPHQL_PATH}`),
        });
        let contextValue: unknown;
        let document: ReturnType<typeof parse>;
        try {
          contextValue = await enveloped.contextFactory();
          document = enveloped.parse(params.query);
        } catch (error) {
          return [publicError(error)];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors.map((error: GraphQLError) => publicError(error));
        return {
          schema: enveloped.schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    wsServer,
  );
  // graphql-ws logs socket errors with console.error and closes with 4500. A frame above
  // maxPayload is such an error (ws closes with 1009 itself): the client's fault, logged at warn
  // in our logger, not a stack trace on stderr per attempt. Registered after useServer's own
  // 'connection' listener, so its error listener exists and is replaced here.
  wsServer.on('connection', (socket) => {
    limitSendBuffer(socket);
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => {
      logger.warn('WebSocket error; closing', { code: error.code, error: error.message });
      if (socket.readyState === socket.OPEN)
        socket.close(CLOSE_CODES.internalError, 'Internal error');
    });
  });
  /**
   * The send-buffer limit: checked after every frame written to the socket, since the graphql-ws
   * adapter awaits each send while several subscriptions send at once, and a check before a
   * send (onNext) sees only the frames of the others that were written before it. A client that
   * does not read piles its frames up here; past the bound it is closed (1013), and terminated
   * if even the close frame cannot get through in SLOW_CONSUMER_GRACE_MS.
   */
  function limitSendBuffer(socket: WebSocket) {
    const send = socket.send.bind(socket) as (...args: unknown[]) => void;
    const batch = batchFrames(socket);
    socket.send = ((...args: unknown[]) => {
      batch.add();
      send(...args);
      if (socket.readyState !== socket.OPEN) return;
      if (batch.bytes() >= MAX_BATCH_BYTES) batch.flush();
      if (socket.bufferedAmount <= limits.WS_MAX_BUFFERED_BYTES) return;
      // Only what the kernel did not take counts: the batch is handed to it first.
      batch.flush();
      if (socket.bufferedAmount <= limits.WS_MAX_BUFFERED_BYTES) return;
      logger.warn('WebSocket closed: the client does not read what it is sent', {
        bufferedBytes: socket.bufferedAmount,
      });
      const session = sessionOf.get(socket);
      if (session) sessions.close(session, CLOSE_CODES.slowConsumer, 'Slow consumer');
      else socket.close(CLOSE_CODES.slowConsumer, 'Slow consumer');
      const timer = setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS);
      socket.once('close', () => clearTimeout(timer));
    }) as typeof socket.send;
  }

  /**
   * Frames sent to one socket in the same tick leave in one writev: the first send of a tick corks
   * the TCP socket and a nextTick uncorks it. Every frame is otherwise a syscall of its own (ws
   * corks only a frame's header and payload together). It pays when several operations of one
   * socket answer the same event (a client watching many chats, or one chat twice, on one
   * socket), or a burst of refusals; one operation's frames are not merged, since graphql-ws
   * waits for each write before the next. A batch past MAX_BATCH_BYTES is flushed at once (a burst
   * must not sit in memory until the tick ends), and so is one the send-buffer limit is checked
   * against, so corking never makes a reading client look slow.
   */
  function batchFrames(socket: WebSocket) {
    const tcp = (socket as unknown as { _socket?: Duplex })._socket;
    let corked = false;
    const flush = () => {
      if (!corked) return;
      corked = false;
      tcp?.uncork();
    };
    return {
      add() {
        if (corked || !tcp) return;
        corked = true;
        tcp.cork();
        process.nextTick(flush);
      },
      flush,
      /** Bytes written to the TCP socket and not yet handed to the kernel, corked ones included. */
      bytes: () => tcp?.writableLength ?? 0,
    };
  }

  return {
    /** Closes every socket and resolves once their subscriptions have ended (B3). */
    async dispose() {
      await handle.dispose();
      if (open.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        drained = resolve;
        timer = setTimeout(() => {
          logger.warn('WebSocket subscriptions did not end in time', { open: open.size });
          resolve();
        }, DRAIN_TIMEOUT_MS);
      });
      clearTimeout(timer);
    },
  };
}
