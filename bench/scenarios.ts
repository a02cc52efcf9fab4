import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatWatch, type TurnTrace } from './client.js';
import {
  delta,
  type BenchDatabase,
  type Cluster,
  type FakeLlmProcess,
  type Snapshot,
} from './cluster.js';
import { progress, rssBytes } from './processes.js';
import { rawStreams } from './raw.js';
import { BENCH_TITLE, encodeScript, expectedText, TRIVIAL, type BenchScript } from './script.js';
import { median, percentile } from './stats.js';

/**
 * The measurements. Each returns raw per-repetition figures; run.ts takes medians and spreads.
 * Waits are on subscriber events, or on the database (polled by the bench, so the server's CPU
 * and statement counts see nothing of the observer) for turns nobody subscribes to.
 */

export interface BenchContext {
  cluster: Cluster;
  db: BenchDatabase;
  fake: FakeLlmProcess;
}

/** Generous: a figure is never cut by a timeout, a wedged run fails loudly instead. */
const TURN_TIMEOUT_MS = 300_000;
const READY_TIMEOUT_MS = 30_000;
const DB_POLL_MS = 50;
const RSS_SAMPLE_MS = 200;
const MS = 1000;
const NONCE_BYTES = 8;

/** Mutations that failed and were retried: listed in the results, never hidden. */
export const apiErrors: string[] = [];
const MUTATION_ATTEMPTS = 10;
/** Back-off step between attempts, as a client would wait before trying again. */
const RETRY_STEP_MS = 100;
/** Failures worth another attempt: the server's own, or a connection it dropped. */
const RETRIABLE = /INTERNAL|fetch failed|HTTP 5\d\d/;

/** The chat whose USER message carries `nonce`, if the server stored it. */
async function storedMessageChat(db: BenchDatabase, nonce: string) {
  const { rows } = await db.pool.query<{ chatId: string }>(
    `SELECT chat_id::text AS "chatId" FROM chat_messages
      WHERE role = 'USER' AND parts::text LIKE $1 LIMIT 1`,
    [`%${nonce}%`],
  );
  return rows[0]?.chatId;
}

/**
 * createChat / sendMessage with a unique message. A server error (e.g. Prisma's "Unable to start
 * a transaction in the given time" when 200 sends wait for the pool) is retried after a back-off,
 * as a client would, and only when the database shows the message was not stored, so a retry
 * never sends a turn twice. The wall time includes the retries; every failure is reported.
 */
async function sendOnce(
  ctx: BenchContext,
  index: number,
  script: BenchScript,
  chatId?: string,
): Promise<string> {
  const nonce = randomBytes(NONCE_BYTES).toString('hex');
  const text = encodeScript(script, nonce);
  const gql = ctx.cluster.gql(index);
  for (let attempt = 1; ; attempt++) {
    try {
      if (chatId === undefined) return await gql.createChat(text);
      await gql.sendMessage(chatId, text);
      return chatId;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const what = chatId ? 'sendMessage' : 'createChat';
      apiErrors.push(`${new Date().toISOString()} ${what}: ${message}`);
      progress(`${what} failed (attempt ${attempt}): ${message}`);
      if (attempt >= MUTATION_ATTEMPTS || !RETRIABLE.test(message)) throw error;
      await sleep(RETRY_STEP_MS * attempt);
      const stored = await storedMessageChat(ctx.db, nonce);
      if (stored) return stored;
    }
  }
}

async function createChats(ctx: BenchContext, count: number, script: BenchScript) {
  return Promise.all(Array.from({ length: count }, (_, i) => sendOnce(ctx, i, script)));
}

/**
 * Polls the database until every chat is WAITING with its generated title saved, or failed
 * (ERROR, PAUSED); returns how many failed.
 */
async function waitSettled(db: BenchDatabase, ids: string[]): Promise<number> {
  const deadline = Date.now() + TURN_TIMEOUT_MS;
  for (;;) {
    const { rows } = await db.pool.query<{ settled: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE status = 'WAITING' AND title = $2) AS settled,
              count(*) FILTER (WHERE status IN ('ERROR', 'PAUSED')) AS failed
         FROM chats WHERE id::text = ANY($1)`,
      [ids, BENCH_TITLE],
    );
    const failed = Number(rows[0]!.failed);
    if (Number(rows[0]!.settled) + failed === ids.length) {
      if (failed > 0) progress(`${failed} of ${ids.length} chats ended in ERROR`);
      return failed;
    }
    if (Date.now() > deadline) throw new Error(`chats not settled: ${JSON.stringify(rows[0])}`);
    await sleep(DB_POLL_MS);
  }
}

/** One subscriber per chat, alternating between the replicas. */
async function openWatches(ctx: BenchContext, ids: string[]) {
  const watches = ids.map((id, i) => {
    const replica = ctx.cluster.replicas[i % ctx.cluster.replicas.length]!;
    return new ChatWatch(replica.url, ctx.cluster.token, id);
  });
  await Promise.all(watches.map((watch) => watch.ready(READY_TIMEOUT_MS)));
  return watches;
}

/**
 * Turns that failed; subscribers whose persisted answer (MessageEvent) differs from the script
 * (wrong: a real error); and subscribers whose deltas do not add up to the answer although the
 * message is right (lost deltas: pub/sub is at-most-once and the MessageEvent repairs them, B14).
 */
export interface TurnFailures {
  failedChats: number;
  wrongText: number;
  incompleteParts: number;
  firstError?: string;
  /** What one wrong or incomplete subscriber saw, for the results file. */
  sample?: { parts: string; message?: string; expected: string };
}

function checkTraces(traces: TurnTrace[], script: BenchScript): TurnFailures {
  const expected = expectedText(script);
  const ok = traces.filter((trace) => trace.error === undefined);
  const failed = traces.filter((trace) => trace.error !== undefined);
  const wrong = ok.filter((t) => t.messageText !== undefined && t.messageText !== expected);
  const incomplete = ok.filter((t) => t.text !== expected && !wrong.includes(t));
  if (failed.length > 0) progress(`${failed.length} turns failed, e.g. ${failed[0]!.error}`);
  const odd = wrong[0] ?? incomplete[0];
  if (odd) {
    progress(
      `${wrong.length} wrong answers, ${incomplete.length} incomplete delta streams, e.g. deltas ${JSON.stringify(odd.text.slice(-60))}`,
    );
  }
  return {
    failedChats: failed.length,
    wrongText: wrong.length,
    incompleteParts: incomplete.length,
    firstError: failed[0]?.error,
    ...(odd ? { sample: { parts: odd.text, message: odd.messageText, expected } } : {}),
  };
}

export interface TurnRun extends TurnFailures {
  wallMs: number;
  /** Start → last delta at any subscriber. */
  lastPartMs: number;
  parts: number;
  firstPartMs: number[];
  pendingToRunningMs: number[];
  sendToRunningMs: number[];
  rssPeakBytes: number[];
}

/** Sends `script` to every watched chat at once and waits until each subscriber saw it end. */
async function runTurns(
  ctx: BenchContext,
  watches: ChatWatch[],
  script: BenchScript,
): Promise<TurnRun> {
  const rssPeakBytes = ctx.cluster.replicas.map(() => 0);
  const sampleRss = () =>
    ctx.cluster.replicas.forEach((replica, i) => {
      const rss = rssBytes(replica.pid);
      if (Number.isFinite(rss)) rssPeakBytes[i] = Math.max(rssPeakBytes[i]!, rss);
    });
  const sampler = setInterval(sampleRss, RSS_SAMPLE_MS);
  try {
    const startedAt = performance.now();
    const traces = watches.map((watch) => watch.begin(startedAt));
    await Promise.all(watches.map((watch, i) => sendOnce(ctx, i, script, watch.chatId)));
    await Promise.all(watches.map((watch) => watch.done(TURN_TIMEOUT_MS)));
    sampleRss();
    return {
      ...checkTraces(traces, script),
      wallMs: Math.max(...traces.map((t) => t.doneAt!)) - startedAt,
      lastPartMs: Math.max(...traces.map((t) => t.lastPartAt ?? t.doneAt!)) - startedAt,
      parts: traces.reduce((sum, t) => sum + t.parts, 0),
      firstPartMs: traces.map((t) => (t.firstPartAt ?? Number.NaN) - t.sentAt),
      // Both as the subscriber saw them: when its events lag, they arrive together and this
      // reads ~0, so the send → RUNNING time is kept as well.
      pendingToRunningMs: traces.map(
        (t) => (t.runningAt ?? Number.NaN) - (t.pendingAt ?? t.sentAt),
      ),
      sendToRunningMs: traces.map((t) => (t.runningAt ?? Number.NaN) - t.sentAt),
      rssPeakBytes,
    };
  } finally {
    clearInterval(sampler);
  }
}

// ---------------------------------------------------------------------------------------------
// Cost: CPU and statements per trivial turn, CPU per delivered delta

/** What the replicas spend doing nothing (acquire polls, heartbeats, idle sockets). */
export interface IdleRates {
  windowMs: number;
  cpuMsPerSecond: number;
  statementsPerSecond: number | undefined;
}

export async function idleRates(ctx: BenchContext, windowMs: number): Promise<IdleRates> {
  const start = await ctx.cluster.snapshot('start');
  await sleep(windowMs);
  const end = await ctx.cluster.snapshot('end');
  const seconds = (end.at - start.at) / MS;
  const statements = delta(start, end, 'statements');
  return {
    windowMs: end.at - start.at,
    cpuMsPerSecond: (delta(start, end, 'procCpu')! * MS) / seconds,
    statementsPerSecond: statements === undefined ? undefined : statements / seconds,
  };
}

/**
 * Every figure is net of the idle rates over the window's duration: the streamed turns last longer
 * than the "hi" turns, and their difference must not charge the idle polls to the deltas.
 */
export interface CostRep {
  chats: number;
  /** Before the idle correction. */
  trivialCpuMsGross: number;
  /** createChat "hi" → WAITING with its title: CPU of both replicas per turn. */
  trivialCpuMs: number;
  trivialCpuMsFromMetrics: number | undefined;
  trivialStatements: number | undefined;
  /** A later "hi" turn (no title) with one subscriber per chat. */
  secondTurnCpuMs: number;
  secondTurnStatements: number | undefined;
  streamedTurnStatements: number | undefined;
  tokensPerStreamedTurn: number;
  partsDelivered: number;
  /** (CPU of the streamed turns − CPU of the "hi" turns) ÷ the extra parts delivered. */
  cpuPerPartUs: number;
  /** The same CPU ÷ the extra tokens the provider streamed (the "per streamed token"). */
  cpuPerTokenUs: number;
  /** Turns that ended in ERROR (their CPU is in the figures all the same). */
  failedTurns: number;
  wrongText: number;
  incompleteParts: number;
  samples: NonNullable<TurnFailures['sample']>[];
}

const perTurn = (value: number | undefined, turns: number, scale = 1) =>
  value === undefined ? undefined : (value * scale) / turns;

export async function costRep(
  ctx: BenchContext,
  chats: number,
  streamed: BenchScript,
  idle: IdleRates,
): Promise<CostRep> {
  const window = async (work: () => Promise<unknown>) => {
    const start: Snapshot = await ctx.cluster.snapshot('start');
    await work();
    const end = await ctx.cluster.snapshot('end');
    const seconds = (end.at - start.at) / MS;
    const idleCpu = (idle.cpuMsPerSecond / MS) * seconds;
    const metricsCpu = delta(start, end, 'cpuSeconds');
    const statements = delta(start, end, 'statements');
    return {
      grossCpu: delta(start, end, 'procCpu')!,
      cpu: delta(start, end, 'procCpu')! - idleCpu,
      metricsCpu: metricsCpu === undefined ? undefined : metricsCpu - idleCpu,
      statements:
        statements === undefined || idle.statementsPerSecond === undefined
          ? undefined
          : statements - idle.statementsPerSecond * seconds,
    };
  };
  let ids: string[] = [];
  let trivialFailed = 0;
  const trivial = await window(async () => {
    ids = await createChats(ctx, chats, TRIVIAL);
    trivialFailed = await waitSettled(ctx.db, ids);
  });
  const watches = await openWatches(ctx, ids);
  try {
    let second: TurnRun | undefined;
    const secondWindow = await window(async () => {
      second = await runTurns(ctx, watches, TRIVIAL);
    });
    let stream: TurnRun | undefined;
    const streamWindow = await window(async () => {
      stream = await runTurns(ctx, watches, streamed);
    });
    const extraCpu = streamWindow.cpu - secondWindow.cpu;
    const extraTokens = chats * (expectedTokens(streamed) - 1);
    return {
      chats,
      trivialCpuMsGross: (trivial.grossCpu * MS) / chats,
      trivialCpuMs: (trivial.cpu * MS) / chats,
      trivialCpuMsFromMetrics: perTurn(trivial.metricsCpu, chats, MS),
      trivialStatements: perTurn(trivial.statements, chats),
      secondTurnCpuMs: (secondWindow.cpu * MS) / chats,
      secondTurnStatements: perTurn(secondWindow.statements, chats),
      streamedTurnStatements: perTurn(streamWindow.statements, chats),
      tokensPerStreamedTurn: expectedTokens(streamed),
      partsDelivered: stream!.parts,
      cpuPerPartUs: (extraCpu * MS * MS) / (stream!.parts - second!.parts),
      cpuPerTokenUs: (extraCpu * MS * MS) / extraTokens,
      failedTurns: trivialFailed + second!.failedChats + stream!.failedChats,
      wrongText: second!.wrongText + stream!.wrongText,
      incompleteParts: second!.incompleteParts + stream!.incompleteParts,
      samples: [second!.sample, stream!.sample].filter((sample) => sample !== undefined),
    };
  } finally {
    for (const watch of watches) watch.close();
  }
}

const expectedTokens = (script: BenchScript) => Math.max(1, script.tokens);

// ---------------------------------------------------------------------------------------------
// Streams: wall time against the raw provider stream, first-part latency, PENDING → RUNNING

export interface StreamRep extends TurnFailures {
  concurrency: number;
  profile: string;
  rawWallMs: number;
  wallMs: number;
  lastPartMs: number;
  ratio: number;
  partsDelivered: number;
  providerFirstTokenMs: number;
  firstPartP50Ms: number;
  firstPartP99Ms: number;
  pendingToRunningP50Ms: number;
  pendingToRunningP99Ms: number;
  /** sendMessage sent → the subscriber saw RUNNING (includes the mutation and event delivery). */
  sendToRunningP50Ms: number;
  sendToRunningP99Ms: number;
  rssPeakMiB: number[];
}

export interface StreamProfile {
  name: string;
  script: BenchScript;
}

/** C chats (their first turn done and titled), one subscriber each, for every run at this C. */
export async function prepareChats(ctx: BenchContext, concurrency: number) {
  const ids = await createChats(ctx, concurrency, TRIVIAL);
  await waitSettled(ctx.db, ids);
  return openWatches(ctx, ids);
}

export async function streamRep(
  ctx: BenchContext,
  watches: ChatWatch[],
  profile: StreamProfile,
): Promise<StreamRep> {
  const raw = await rawStreams(ctx.fake.baseUrl, profile.script, watches.length);
  const run = await runTurns(ctx, watches, profile.script);
  const providerFirstTokenMs = median(raw.firstTokenMs);
  const firstPart = run.firstPartMs.map((ms) => ms - providerFirstTokenMs);
  return {
    failedChats: run.failedChats,
    wrongText: run.wrongText,
    incompleteParts: run.incompleteParts,
    firstError: run.firstError,
    sample: run.sample,
    concurrency: watches.length,
    profile: profile.name,
    rawWallMs: raw.wallMs,
    wallMs: run.wallMs,
    lastPartMs: run.lastPartMs,
    ratio: run.wallMs / raw.wallMs,
    partsDelivered: run.parts,
    providerFirstTokenMs,
    firstPartP50Ms: percentile(firstPart, 50),
    firstPartP99Ms: percentile(firstPart, 99),
    pendingToRunningP50Ms: percentile(run.pendingToRunningMs, 50),
    pendingToRunningP99Ms: percentile(run.pendingToRunningMs, 99),
    sendToRunningP50Ms: percentile(run.sendToRunningMs, 50),
    sendToRunningP99Ms: percentile(run.sendToRunningMs, 99),
    rssPeakMiB: run.rssPeakBytes.map(toMiB),
  };
}

const toMiB = (bytes: number) => bytes / 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Held: RSS at N running chats, statements per heartbeat interval

export interface HeldRun extends TurnFailures {
  chats: number;
  heartbeatIntervalMs: number;
  windowMs: number;
  runningPerReplica: Record<string, number>;
  rssMiB: number[];
  rssIdleMiB: number[];
  /** Statements of both replicas per heartbeat interval with nothing running (acquire polls…). */
  idleStatementsPerInterval: number | undefined;
  /** The same with `chats` RUNNING chats held open and nothing else happening. */
  heldStatementsPerInterval: number | undefined;
}

export async function heldRun(
  ctx: BenchContext,
  chats: number,
  heartbeatIntervalMs: number,
  beats: number,
): Promise<HeldRun> {
  const windowMs = heartbeatIntervalMs * beats;
  const statementsOver = async () => {
    const start = await ctx.cluster.snapshot('start');
    await sleep(windowMs);
    const end = await ctx.cluster.snapshot('end');
    const statements = delta(start, end, 'statements');
    // Scaled by the real window (the scrape takes a moment too).
    return statements === undefined
      ? undefined
      : (statements * heartbeatIntervalMs) / (end.at - start.at);
  };
  // Startup work (migration check, first acquire) stays out of the idle window.
  await sleep(heartbeatIntervalMs);
  const rssIdleMiB = ctx.cluster.replicas.map((replica) => toMiB(rssBytes(replica.pid)));
  progress(`held: idle window ${windowMs} ms`);
  const idleStatementsPerInterval = await statementsOver();

  const hold: BenchScript = { tokens: 3, delayMs: 0, hold: true };
  const ids = await createChats(ctx, chats, hold);
  const watches = ids.map((id, i) => {
    const replica = ctx.cluster.replicas[i % ctx.cluster.replicas.length]!;
    const watch = new ChatWatch(replica.url, ctx.cluster.token, id);
    watch.begin();
    return watch;
  });
  try {
    progress(`held: waiting for ${chats} chats to stream their first part`);
    await Promise.all(
      watches.map((watch) =>
        watch.until((w) => w.trace?.firstPartAt !== undefined, 'a first part', TURN_TIMEOUT_MS),
      ),
    );
    const { rows } = await ctx.db.pool.query<{ worker: string; running: string }>(
      `SELECT coalesce(worker_id, '?') AS worker, count(*) AS running FROM chats
        WHERE status = 'RUNNING' AND id::text = ANY($1) GROUP BY 1 ORDER BY 1`,
      [ids],
    );
    const runningPerReplica = Object.fromEntries(
      rows.map((row) => [row.worker, Number(row.running)]),
    );
    const rssMiB = ctx.cluster.replicas.map((replica) => toMiB(rssBytes(replica.pid)));
    progress(`held: ${JSON.stringify(runningPerReplica)} running; window ${windowMs} ms`);
    const heldStatementsPerInterval = await statementsOver();
    ctx.fake.release();
    await Promise.all(watches.map((watch) => watch.done(TURN_TIMEOUT_MS)));
    const failures = checkTraces(
      watches.map((watch) => watch.trace!),
      hold,
    );
    return {
      ...failures,
      chats,
      heartbeatIntervalMs,
      windowMs,
      runningPerReplica,
      rssMiB,
      rssIdleMiB,
      idleStatementsPerInterval,
      heldStatementsPerInterval,
    };
  } finally {
    for (const watch of watches) watch.close();
  }
}
