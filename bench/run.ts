/**
 * `npm run bench [-- --quick]`: figures, never pass/fail. Postgres + Redis, two replicas as
 * separate processes started as `npm start` would, the fake LLM in its own process, subscribers
 * on real graphql-ws connections spread over both replicas. Prints a markdown table on stdout,
 * progress on stderr, and writes everything measured to bench/results.json.
 *
 * Scenarios, in order (the replicas run with the default settings except in the last one):
 * 1. cost: N createChat "hi" turns (title included) → CPU and SQL statements per turn; then a
 *    later "hi" turn and a streamed turn on the same chats with one subscriber each → CPU per
 *    delivered delta, from the difference of the two.
 * 2. streams: at each C, C chats; per profile, the same C streams read straight from the fake
 *    (raw) then C sendMessage at once → wall ÷ raw, first part − provider first token,
 *    PENDING → RUNNING.
 * 3. held: replicas restarted with a short heartbeat (and room for N chats if the defaults have
 *    none); N chats held RUNNING by a paused stream → RSS per replica, statements per heartbeat.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import {
  checkServices,
  configureModel,
  createDatabase,
  startCluster,
  startFakeLlmProcess,
  type Cluster,
  type ClusterOptions,
} from './cluster.js';
import { cleanupAll, progress, REPO_ROOT, resolveStartCommand } from './processes.js';
import { buildRows, renderTable, type StreamGroup } from './report.js';
import {
  apiErrors,
  costRep,
  heldRun,
  idleRates,
  prepareChats,
  streamRep,
  type BenchContext,
  type CostRep,
  type HeldRun,
  type IdleRates,
  type StreamProfile,
  type StreamRep,
} from './scenarios.js';

interface Plan {
  mode: 'full' | 'quick' | 'cost';
  repetitions: number;
  /** Warm-up runs per (C, profile) before the measured ones. */
  streamWarmups: number;
  costChats: number;
  costWarmupChats: number;
  /** How long the replicas' idle CPU and statements are measured, to subtract them. */
  idleWindowMs: number;
  /** The streamed turn of the cost scenario. */
  costTokens: number;
  concurrencies: number[];
  profiles: StreamProfile[];
  heldChats: number;
  heartbeatIntervalMs: number;
  heartbeatBeats: number;
}

const SLOW_DELAY_MS = 20;
const FAST_DELAY_MS = 5;
const profiles = (tokens: number): StreamProfile[] => [
  { name: `50 tok/s (${tokens}×${SLOW_DELAY_MS} ms)`, script: { tokens, delayMs: SLOW_DELAY_MS } },
  { name: `200 tok/s (${tokens}×${FAST_DELAY_MS} ms)`, script: { tokens, delayMs: FAST_DELAY_MS } },
];

const FULL: Plan = {
  mode: 'full',
  repetitions: 3,
  streamWarmups: 1,
  costChats: 100,
  costWarmupChats: 20,
  idleWindowMs: 5_000,
  costTokens: 100,
  concurrencies: [1, 100, 200],
  profiles: profiles(100),
  heldChats: 200,
  heartbeatIntervalMs: 1_000,
  heartbeatBeats: 10,
};

const QUICK: Plan = {
  mode: 'quick',
  repetitions: 1,
  // The cost scenario's warm-up already warmed both replicas up.
  streamWarmups: 0,
  costChats: 20,
  costWarmupChats: 10,
  idleWindowMs: 2_000,
  costTokens: 40,
  concurrencies: [1, 50],
  profiles: profiles(40),
  heldChats: 50,
  heartbeatIntervalMs: 500,
  heartbeatBeats: 4,
};

/**
 * `--cost`: only the cost scenario (CPU and statements per turn and per delta), with enough
 * turns and repetitions to compare two builds on a busy machine in about a minute.
 */
const COST: Plan = {
  ...QUICK,
  mode: 'cost',
  repetitions: 3,
  costChats: 40,
  concurrencies: [],
  heldChats: 0,
};

/** src/config.ts's defaults as they are now (the replicas get none of these set). */
async function configDefaults(): Promise<Record<string, unknown>> {
  try {
    const { loadConfig } = await import('../src/config.js');
    const config = loadConfig({}) as unknown as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(config).filter(([key]) => key.startsWith('CHAT_') || key === 'LOG_LEVEL'),
    );
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** The code measured; BENCH_COMMIT names it when the bench runs from an export (no .git). */
function gitState() {
  const named = process.env['BENCH_COMMIT'];
  if (named) return { commit: named, dirty: false };
  try {
    const run = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const dirty = run('status', '--porcelain', '--', 'src', 'package.json') !== '';
    return { commit: run('rev-parse', '--short', 'HEAD'), dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

const loads: { at: string; what: string; loadavg: number[] }[] = [];
function noteLoad(what: string) {
  loads.push({
    at: new Date().toISOString(),
    what,
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
  });
}

/** What the run measured so far: a failed run still prints and saves what it has. */
interface Results {
  plan: Plan;
  startedAt: Date;
  startCommand?: string;
  defaults?: Record<string, unknown>;
  heldOverrides?: Record<string, string>;
  costWarmup?: CostRep;
  idle?: IdleRates;
  cost: CostRep[];
  warmups: StreamRep[];
  streams: StreamGroup[];
  held?: HeldRun;
}

async function main(results: Results) {
  const { plan } = results;
  noteLoad('start');
  progress(`${plan.mode} run; checking Postgres and Redis`);
  await checkServices();
  const start = resolveStartCommand();
  results.startCommand = start.description;
  progress(`replicas: ${start.description}`);
  const defaults = await configDefaults();
  results.defaults = defaults;
  const database = await createDatabase();
  progress(`database ${database.name}`);
  const fake = await startFakeLlmProcess();
  progress(`fake LLM at ${fake.baseUrl}`);
  const clusterOptions: ClusterOptions = {
    start,
    database,
    fake,
    token: `bench-admin-${randomBytes(16).toString('hex')}`,
    secretKey: randomBytes(32).toString('hex'),
  };
  let cluster = await startCluster(clusterOptions);
  running = cluster;
  progress(`replicas at ${cluster.replicas.map((r) => r.url).join(', ')} (default settings)`);
  await configureModel(cluster.gql(0), fake.baseUrl);
  let ctx: BenchContext = { cluster, db: database, fake };

  // 1. cost
  const costScript = { tokens: plan.costTokens, delayMs: SLOW_DELAY_MS };
  progress(`cost: warm-up with ${plan.costWarmupChats} chats`);
  const noIdle: IdleRates = { windowMs: 0, cpuMsPerSecond: 0, statementsPerSecond: 0 };
  results.costWarmup = await costRep(ctx, plan.costWarmupChats, costScript, noIdle);
  progress(`cost: idle rates over ${plan.idleWindowMs} ms`);
  const idle = await idleRates(ctx, plan.idleWindowMs);
  results.idle = idle;
  for (let rep = 1; rep <= plan.repetitions; rep++) {
    progress(`cost: rep ${rep}/${plan.repetitions}, ${plan.costChats} chats`);
    results.cost.push(await costRep(ctx, plan.costChats, costScript, idle));
  }
  noteLoad('after cost');

  // 2. streams
  for (const concurrency of plan.concurrencies) {
    progress(`streams: preparing ${concurrency} chats`);
    const watches = await prepareChats(ctx, concurrency);
    try {
      for (const profile of plan.profiles) {
        const group: StreamGroup = { concurrency, profile: profile.name, reps: [] };
        results.streams.push(group);
        for (let rep = 1 - plan.streamWarmups; rep <= plan.repetitions; rep++) {
          progress(
            `streams: C=${concurrency} ${profile.name} ${rep <= 0 ? 'warm-up' : `rep ${rep}/${plan.repetitions}`}`,
          );
          const result = await streamRep(ctx, watches, profile);
          (rep <= 0 ? results.warmups : group.reps).push(result);
        }
      }
    } finally {
      for (const watch of watches) watch.close();
    }
    noteLoad(`after streams C=${concurrency}`);
  }

  // 3. held
  if (plan.heldChats === 0) {
    serverErrors.push(...collectServerErrors(cluster));
    await cluster.stop();
    running = undefined;
    return;
  }
  const heldOverrides = heldSettings(defaults, plan);
  results.heldOverrides = heldOverrides;
  progress(`held: restarting replicas with ${JSON.stringify(heldOverrides)}`);
  serverErrors.push(...collectServerErrors(cluster));
  await cluster.stop();
  cluster = await startCluster({ ...clusterOptions, overrides: heldOverrides });
  running = cluster;
  ctx = { ...ctx, cluster };
  results.held = await heldRun(ctx, plan.heldChats, plan.heartbeatIntervalMs, plan.heartbeatBeats);
  noteLoad('end');
  serverErrors.push(...collectServerErrors(cluster));
  await cluster.stop();
  running = undefined;
}

/** Prints the table and writes results.json, complete or (after a failure) with what there is. */
async function publish(results: Results, failure?: string) {
  const { plan } = results;
  if (failure) noteLoad('failed');
  const idle = results.idle ?? {
    windowMs: 0,
    cpuMsPerSecond: Number.NaN,
    statementsPerSecond: undefined,
  };
  const streams = results.streams.filter((group) => group.reps.length > 0);
  const rows = buildRows(results.cost, idle, streams, results.held, apiErrors);
  const table = renderTable(rows);
  const git = gitState();
  const header = [
    `agentgraph bench (${plan.mode}): commit ${git.commit}${git.dirty ? ' + uncommitted src changes' : ''}, node ${process.version}, ${cpus().length} CPUs`,
    ...(failure ? [`INCOMPLETE RUN: ${failure}`] : []),
    `replicas: ${results.startCommand ?? '?'}; defaults ${JSON.stringify(results.defaults ?? {})}`,
    `held scenario settings: ${JSON.stringify(results.heldOverrides ?? {})}`,
    `load average (1/5/15 min) at start ${loads[0]!.loadavg.join(' ')}, at end ${loads.at(-1)!.loadavg.join(' ')}`,
    `API mutations that failed with a server error (retried when not stored): ${apiErrors.length}; error lines logged by the replicas: ${serverErrors.length}`,
    `each figure: median of ${plan.repetitions} repetition(s) after a warm-up; spread = min – max of the repetitions`,
  ];
  console.log(`\n${header.join('\n')}\n\n${table}\n`);
  const json = {
    mode: plan.mode,
    complete: !failure,
    failure,
    startedAt: results.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git,
    node: process.version,
    cpus: cpus().length,
    loadavg: loads,
    startCommand: results.startCommand,
    settings: {
      defaults: results.defaults,
      streamAndCostRuns: {},
      heldRun: results.heldOverrides,
    },
    plan,
    cost: { warmup: results.costWarmup, idle: results.idle, reps: results.cost },
    streams: { warmups: results.warmups, groups: results.streams },
    held: results.held,
    apiErrors,
    serverErrors,
    table: rows,
  };
  const file = path.join(REPO_ROOT, 'bench', 'results.json');
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  progress(`wrote ${path.relative(REPO_ROOT, file)}`);
}

/** A short heartbeat; and room for every held chat when the defaults cap replicas below it. */
function heldSettings(defaults: Record<string, unknown>, plan: Plan): Record<string, string> {
  const overrides: Record<string, string> = {
    CHAT_HEARTBEAT_INTERVAL_MS: String(plan.heartbeatIntervalMs),
  };
  const perReplica = Math.ceil(plan.heldChats / 2);
  const maxConcurrent = Number(defaults['CHAT_MAX_CONCURRENT']);
  // Acquire is first come, first served: one replica may take them all.
  if (!(maxConcurrent >= plan.heldChats)) overrides['CHAT_MAX_CONCURRENT'] = String(plan.heldChats);
  const batch = Number(defaults['CHAT_ACQUIRE_BATCH']);
  if (!(batch >= perReplica)) overrides['CHAT_ACQUIRE_BATCH'] = String(perReplica);
  return overrides;
}

const serverErrors: string[] = [];
const collectServerErrors = (cluster: Cluster) =>
  cluster.replicas.flatMap((replica) =>
    replica.child.errorLines().map((line) => `${replica.name}: ${line}`),
  );

/** The replicas of the moment, whose error log lines explain a failed run. */
let running: Cluster | undefined;
const ERROR_LINES_SHOWN = 10;

function showServerErrors() {
  for (const replica of running?.replicas ?? []) {
    const errors = replica.child.errorLines().slice(-ERROR_LINES_SHOWN);
    for (const line of errors) progress(`replica ${replica.name}: ${line}`);
  }
}

let exiting = false;
/** Set by Ctrl-C: the run's own failure (its replicas just died) is then not reported. */
let interrupted = false;
async function exit(code: number) {
  if (exiting) return;
  exiting = true;
  await cleanupAll();
  process.exit(code);
}

const results: Results = {
  plan: process.argv.includes('--cost') ? COST : process.argv.includes('--quick') ? QUICK : FULL,
  startedAt: new Date(),
  cost: [],
  warmups: [],
  streams: [],
};

// A socket of a replica that was just killed may reject a promise nobody awaits any more; that
// must not end the bench before it has cleaned up and printed what it has.
process.on('unhandledRejection', (reason) => {
  const text = reason instanceof Error ? reason.message : String(reason);
  if (!interrupted && !exiting) progress(`unhandled rejection (ignored): ${text}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting || interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping; printing what was measured so far`);
    // Stop the replicas first: the partial table must not wait for a run still going on.
    void (async () => {
      if (running) serverErrors.push(...collectServerErrors(running));
      await cleanupAll();
      await publish(results, `interrupted by ${signal}`).catch((error: unknown) =>
        progress(`could not write the partial results: ${String(error)}`),
      );
      await exit(130);
    })();
  });
}

main(results).then(
  async () => {
    if (interrupted) return;
    await publish(results);
    await exit(0);
  },
  async (error: unknown) => {
    if (interrupted) return;
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    showServerErrors();
    if (running) serverErrors.push(...collectServerErrors(running));
    try {
      await publish(results, error instanceof Error ? error.message : String(error));
    } catch (publishError) {
      progress(`could not write the partial results: ${String(publishError)}`);
    }
    await exit(1);
  },
);
