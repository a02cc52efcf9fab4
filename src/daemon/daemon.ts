import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  acquireChats,
  heartbeatChats,
  LeaseLostError,
  readLease,
  recoverStaleChats,
  releaseChats,
  releaseWorkerChats,
  type AcquiredChat,
} from '../db/chat-leases.js';
import { createChatEvents } from '../chats/events.js';
import { topics, type Unsubscribe } from '../pubsub/index.js';
import { runChatTurn, type StopReason, type TurnEnvironment } from './run-chat.js';

/**
 * The chat daemon (B3, B9): runs in every replica, independent of any resolver. It acquires
 * PENDING chats, heartbeats the ones it runs in one statement per interval, recovers stale ones
 * and stops turns it no longer owns. See ARCHITECTURE.md for the states and transitions.
 */
export interface DaemonOptions {
  workerId?: string;
  /** Default 1000 ms (CHAT_ACQUIRE_INTERVAL_MS). */
  acquireIntervalMs: number;
  /** Default 30000 ms (CHAT_HEARTBEAT_INTERVAL_MS). */
  heartbeatIntervalMs: number;
  /** Default 120000 ms (CHAT_STALE_AFTER_MS). */
  staleAfterMs: number;
  /** Chats acquired per statement. Default 100 (CHAT_ACQUIRE_BATCH). */
  acquireBatch: number;
  /** Most chats run at once by this worker. Default 200 (CHAT_MAX_CONCURRENT). */
  maxConcurrent: number;
  /** How long stop() lets turns persist what they produced before releasing them anyway. */
  shutdownGraceMs?: number;
}

/** Stale recovery runs this many times per stale-after period (and once at start). */
const STALE_CHECKS_PER_PERIOD = 5;
const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

interface RunningTurn {
  acquired: AcquiredChat;
  /** performance.now() when the database last confirmed the lease (acquire or heartbeat). */
  confirmedAt: number;
  /** An ownership check in flight, shared by concurrent callers. Resolves true when owned. */
  confirming?: Promise<boolean>;
  controller: AbortController;
  reason?: StopReason;
  done: Promise<void>;
  unsubscribeControl?: Unsubscribe;
}

export interface Daemon {
  readonly workerId: string;
  start(): Promise<void>;
  /** Stops acquiring, stops turns, returns their chats to PENDING. Idempotent. */
  stop(): Promise<void>;
  /** Chat ids this worker is running now (tests, metrics). */
  running(): string[];
}

export function createDaemon(env: TurnEnvironment, options: DaemonOptions): Daemon {
  const { sql, pubsub, logger: baseLogger } = env.deps;
  const workerId =
    options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = baseLogger.child({ workerId });
  const events = createChatEvents(env.deps);
  const turns = new Map<string, RunningTurn>();
  /** Work that outlived its turn (titles); aborted and awaited at stop. */
  const backgroundWork = new Set<Promise<void>>();
  const backgroundAbort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  /**
   * Whether PENDING chats may be waiting that this worker did not take: a full acquire (capacity
   * ran out), a wake-up or a poll tick says so. A turn that ends only acquires when it is set,
   * so an idle cluster does not run an empty acquire statement after every turn.
   */
  let maybePending = true;
  let unsubscribeWake: Unsubscribe | undefined;
  let stopping = false;
  let ticking = false;
  let tickAgain = false;
  let stopped: Promise<void> | undefined;
  // A lease confirmed this recently is surely still ours: stale recovery needs a heartbeat older
  // than staleAfterMs. The margin of one heartbeat interval covers the statement's own latency.
  const safeLeaseAgeMs = Math.max(0, options.staleAfterMs - options.heartbeatIntervalMs);

  function stopTurn(turn: RunningTurn, reason: StopReason) {
    if (turn.controller.signal.aborted) return;
    if (reason === 'lost') env.deps.metrics?.leaseLosses.inc();
    turn.reason = reason;
    turn.controller.abort(new Error(`turn stopped: ${reason}`));
  }

  /** A control signal or heartbeat result: the database says whether and why to stop. */
  async function checkTurn(turn: RunningTurn) {
    const state = await readLease(sql, turn.acquired);
    if (!state?.owned) stopTurn(turn, 'lost');
    else if (state.interruptRequest) stopTurn(turn, 'interrupt');
  }

  /**
   * B9 for what the database cannot fence (parts streamed through pub/sub): resolves while the
   * lease was confirmed recently enough, else asks the database again. A worker paused past
   * stale-after (SIGSTOP, a long GC) learns here that it lost the chat before it publishes.
   */
  async function confirmLease(turn: RunningTurn): Promise<void> {
    if (turn.reason === 'lost') throw new LeaseLostError(turn.acquired.chatId);
    if (performance.now() - turn.confirmedAt < safeLeaseAgeMs) return;
    turn.confirming ??= (async () => {
      const askedAt = performance.now();
      const alive = await heartbeatChats(sql, workerId, [turn.acquired]);
      if (!alive.has(turn.acquired.chatId)) {
        stopTurn(turn, 'lost');
        return false;
      }
      turn.confirmedAt = Math.max(turn.confirmedAt, askedAt);
      return true;
    })().finally(() => (turn.confirming = undefined));
    if (!(await turn.confirming)) throw new LeaseLostError(turn.acquired.chatId);
  }

  function runInBackground(work: (signal: AbortSignal) => Promise<void>) {
    if (backgroundAbort.signal.aborted) return;
    const running = work(backgroundAbort.signal)
      .catch((error: unknown) => logger.warn('background work failed', { error }))
      .finally(() => backgroundWork.delete(running));
    backgroundWork.add(running);
  }

  async function startTurn(acquired: AcquiredChat, confirmedAt: number) {
    const controller = new AbortController();
    const turn: RunningTurn = { acquired, confirmedAt, controller, done: Promise.resolve() };
    turns.set(acquired.chatId, turn);
    turn.unsubscribeControl = await pubsub
      .subscribe(topics.chatControl(acquired.chatId), () => {
        checkTurn(turn).catch((error: unknown) => logger.warn('control check failed', { error }));
      })
      .catch(() => undefined);
    turn.done = runChatTurn(env, acquired, {
      signal: controller.signal,
      stopReason: () => turn.reason,
      confirmLease: () => confirmLease(turn),
      background: runInBackground,
    })
      .catch((error: unknown) => logger.error('turn crashed', { chatId: acquired.chatId, error }))
      .finally(async () => {
        turns.delete(acquired.chatId);
        await turn.unsubscribeControl?.().catch(() => undefined);
        if (!stopping && maybePending) void tick();
      });
  }

  /** A nudge (createChat, sendMessage, a requeue anywhere) or a poll: acquire now. */
  function wake() {
    maybePending = true;
    void tick();
  }

  async function tick(): Promise<void> {
    if (stopping) return;
    if (ticking) {
      tickAgain = true;
      return;
    }
    ticking = true;
    try {
      do {
        tickAgain = false;
        const capacity = Math.min(options.acquireBatch, options.maxConcurrent - turns.size);
        if (capacity <= 0) break;
        const askedAt = performance.now();
        // Cleared before the statement: a wake-up during it sets it again and is not lost.
        maybePending = false;
        const acquired = await acquireChats(sql, workerId, capacity);
        env.deps.metrics?.acquireDuration.observe((performance.now() - askedAt) / 1000);
        if (stopping) {
          // Acquired while stop() began: hand them straight back (the phantom-acquire bug). Only
          // these: the turns already running persist what they produced and hand back their own.
          await releaseChats(sql, workerId, acquired);
          return;
        }
        // Started together: each waits for its control subscription (a broker round trip).
        await Promise.all(acquired.map((chat) => startTurn(chat, askedAt)));
        if (acquired.length === capacity) maybePending = tickAgain = true;
      } while (tickAgain && !stopping);
    } catch (error) {
      logger.error('acquire failed', { error });
    } finally {
      ticking = false;
    }
  }

  async function heartbeat() {
    if (turns.size === 0) return;
    const owned = [...turns.values()];
    const askedAt = performance.now();
    try {
      const alive = await heartbeatChats(
        sql,
        workerId,
        owned.map((turn) => turn.acquired),
      );
      for (const turn of owned) {
        const state = alive.get(turn.acquired.chatId);
        if (!state) {
          stopTurn(turn, 'lost');
          continue;
        }
        turn.confirmedAt = Math.max(turn.confirmedAt, askedAt);
        if (state.interruptRequest) stopTurn(turn, 'interrupt');
      }
    } catch (error) {
      logger.error('heartbeat failed', { error });
    }
  }

  async function recoverStale() {
    try {
      const recovered = await recoverStaleChats(sql, options.staleAfterMs);
      for (const chat of recovered) {
        logger.warn('recovered a stale chat', { chatId: chat.id, status: chat.status });
        await events.status({
          id: chat.id,
          ownerId: chat.owner_id,
          status: chat.status,
          lastError: null,
        });
      }
      if (recovered.length > 0) {
        wake();
        await wakeOthers('stale chats recovered');
      }
    } catch (error) {
      logger.error('stale recovery failed', { error });
    }
  }

  /** Tells every daemon (other replicas too) that chats became PENDING. */
  async function wakeOthers(reason: string) {
    await pubsub
      .publish(topics.daemonWake(), { reason })
      .catch((error: unknown) => logger.warn('wake-up publish failed', { error }));
  }

  async function shutdown() {
    stopping = true;
    for (const timer of timers) clearInterval(timer);
    await unsubscribeWake?.().catch(() => undefined);
    // Stopped turns hand their chats back to PENDING themselves; only what misses the grace
    // period is released below. The log reports both, so a clean release does not read as 0.
    const stoppedTurns = turns.size;
    for (const turn of turns.values()) stopTurn(turn, 'shutdown');
    const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...turns.values()].map((turn) => turn.done)),
      new Promise((resolve) => (graceTimer = setTimeout(resolve, grace))),
    ]);
    clearTimeout(graceTimer);
    // Anything a turn could not hand back in time goes back to PENDING now.
    const released = await releaseWorkerChats(sql, workerId).catch(() => []);
    for (const chat of released) {
      await events.status({
        id: chat.id,
        ownerId: chat.owner_id,
        status: 'PENDING',
        lastError: null,
      });
    }
    if (released.length > 0) await wakeOthers('chats released at shutdown');
    // Titles are a nicety: they stop with the process instead of delaying it.
    backgroundAbort.abort(new Error('daemon stopping'));
    await Promise.allSettled([...backgroundWork]);
    logger.info('daemon stopped', {
      stoppedTurns,
      releasedAfterGrace: released.length,
    });
  }

  return {
    workerId,
    running: () => [...turns.keys()],
    async start() {
      await recoverStale();
      unsubscribeWake = await pubsub.subscribe(topics.daemonWake(), wake);
      timers.push(
        // The fallback when a wake-up was lost (pub/sub is at-most-once) or a replica crashed.
        setInterval(wake, options.acquireIntervalMs),
        setInterval(() => void heartbeat(), options.heartbeatIntervalMs),
        setInterval(
          () => void recoverStale(),
          Math.max(1, Math.floor(options.staleAfterMs / STALE_CHECKS_PER_PERIOD)),
        ),
      );
      logger.info('daemon started');
      void tick();
    },
    stop: () => (stopped ??= shutdown()),
  };
}
