import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { topics, type PubSub } from '../pubsub/index.js';
import type { AccessEndedSignal } from '../pubsub/topics.js';

/** WebSocket close codes this server uses (graphql-ws reserves 4400-4499 for its own meanings). */
export const CLOSE_CODES = {
  /** No token, a bad one, or access ended (revoked token, disabled or deleted user). */
  forbidden: 4403,
  /** Too many sockets for one user (WS_MAX_SOCKETS_PER_USER). */
  tooManySockets: 4429,
  /**
   * The client does not read what it is sent (WS_MAX_BUFFERED_BYTES). 1013 "Try Again Later":
   * graphql-ws clients retry it, and a resubscription with afterMessageId loses nothing.
   */
  slowConsumer: 1013,
  /** The server failed (e.g. the database was unreachable while checking the token). */
  internalError: 1011,
} as const;

/** One open WebSocket, known by the token it presented and, once authenticated, its user. */
export interface Session {
  readonly socket: WebSocket;
  readonly tokenHash: string;
  userId: string | undefined;
}

/** What the domain services call to end access everywhere (see Deps.sessions). */
export interface SessionControl {
  /**
   * Closes every socket of a token or a user: this replica's before it resolves, the other
   * replicas' on receipt of a pub/sub control message.
   */
  endAccess(target: AccessEndedSignal): Promise<void>;
}

/**
 * This replica's open WebSockets by token and by user, so that revoking a token or ending a
 * user's access closes their sockets at once instead of letting them stream until they
 * disconnect (issue #8, row 8): the token is otherwise only checked when an operation starts.
 * Emits 'closing' (session, code) whenever it closes a socket itself (tests wait on it).
 */
export function createSessionRegistry(options: { pubsub: PubSub; logger: Logger }) {
  const { pubsub, logger } = options;
  const byToken = new Map<string, Set<Session>>();
  const byUser = new Map<string, Set<Session>>();
  const events = new EventEmitter();
  let unsubscribe: (() => Promise<void>) | undefined;

  const add = (index: Map<string, Set<Session>>, key: string, session: Session) => {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(session);
  };
  const drop = (index: Map<string, Set<Session>>, key: string | undefined, session: Session) => {
    if (key === undefined) return;
    const set = index.get(key);
    set?.delete(session);
    if (set?.size === 0) index.delete(key);
  };

  const registry = {
    events,

    /**
     * Registers a socket by its token BEFORE the token is checked: a revocation that lands while
     * the check runs then finds the socket (and closes it), and one that landed before makes the
     * check fail, so no socket slips through with a revoked token.
     */
    open(socket: WebSocket, tokenHash: string): Session {
      const session: Session = { socket, tokenHash, userId: undefined };
      add(byToken, tokenHash, session);
      socket.once('close', () => registry.remove(session));
      return session;
    },

    /** Binds the session to its user; false (nothing bound) when the user is at `maxPerUser`. */
    assignUser(session: Session, userId: string, maxPerUser: number): boolean {
      if ((byUser.get(userId)?.size ?? 0) >= maxPerUser) return false;
      session.userId = userId;
      add(byUser, userId, session);
      return true;
    },

    remove(session: Session) {
      drop(byToken, session.tokenHash, session);
      drop(byUser, session.userId, session);
    },

    /** Sockets of a user on this replica. */
    countForUser(userId: string): number {
      return byUser.get(userId)?.size ?? 0;
    },

    close(session: Session, code: number, reason: string) {
      registry.remove(session);
      events.emit('closing', session, code);
      // After close() the graphql-ws adapter sends nothing more on this socket (it checks OPEN).
      session.socket.close(code, reason);
    },

    /** Closes this replica's sockets of the token and/or user. */
    closeMatching(target: AccessEndedSignal): number {
      const sessions = new Set<Session>([
        ...(target.tokenHash ? (byToken.get(target.tokenHash) ?? []) : []),
        ...(target.userId ? (byUser.get(target.userId) ?? []) : []),
      ]);
      for (const session of sessions) {
        registry.close(session, CLOSE_CODES.forbidden, 'Forbidden: access ended');
      }
      return sessions.size;
    },

    async endAccess(target: AccessEndedSignal) {
      const closed = registry.closeMatching(target);
      if (closed > 0) logger.info('closed WebSockets of ended access', { closed });
      // publish() never rejects (a broker that is down is logged by the pub/sub): the other
      // replicas then keep those sockets until they next check the token, which every new
      // operation does.
      await pubsub.publish(topics.accessEnded(), target);
    },

    /** Listens for other replicas' control messages. */
    async start() {
      unsubscribe = await pubsub.subscribe(topics.accessEnded(), (target) => {
        const closed = registry.closeMatching(target);
        if (closed > 0) logger.info('closed WebSockets of access ended elsewhere', { closed });
      });
    },

    async stop() {
      await unsubscribe?.();
      unsubscribe = undefined;
    },
  } satisfies SessionControl & Record<string, unknown>;
  return registry;
}

export type SessionRegistry = ReturnType<typeof createSessionRegistry>;
