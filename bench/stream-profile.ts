/**
 * A streaming-heavy run for profiling the per-delta path (issue #9): after a warm-up, only long
 * streamed turns on chats that exist already (one subscriber each), so a `--cpu-prof` of the
 * replicas after the printed offset is mostly deltas rather than turns. Prints the replicas' CPU
 * per delivered part over those turns (net of idle; the turns' own cost is in it, spread over
 * many parts).
 *
 *   BENCH_REPLICA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" \
 *     node --import tsx bench/stream-profile.ts [CHATS] [TOKENS] [DELAY_MS] [REPS]
 *   node --import tsx bench/profile-summary.ts --skip-ms <printed offset> /tmp/prof/*.cpuprofile
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  checkServices,
  configureModel,
  createDatabase,
  startCluster,
  startFakeLlmProcess,
} from './cluster.js';
import { cleanupAll, progress, resolveStartCommand } from './processes.js';
import { delta } from './cluster.js';
import { costRep, idleRates, prepareChats, streamRep, type BenchContext } from './scenarios.js';
import { median } from './stats.js';

const [chats = 40, tokens = 400, delayMs = 10, reps = 3] = process.argv.slice(2).map(Number);

/** [user, system] clock ticks of a process: how much of the CPU is syscalls (socket writes). */
function userSystemTicks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]), Number(fields[12])];
}

async function main() {
  await checkServices();
  const database = await createDatabase();
  const fake = await startFakeLlmProcess();
  const start = resolveStartCommand();
  const startedAt = performance.now();
  const cluster = await startCluster({
    start,
    database,
    fake,
    token: `bench-admin-${randomBytes(16).toString('hex')}`,
    secretKey: randomBytes(32).toString('hex'),
  });
  await configureModel(cluster.gql(0), fake.baseUrl);
  const ctx: BenchContext = { cluster, db: database, fake };
  const script = { tokens, delayMs };
  await costRep(ctx, 10, script, { windowMs: 0, cpuMsPerSecond: 0, statementsPerSecond: 0 });
  const idle = await idleRates(ctx, 2_000);
  const watches = await prepareChats(ctx, chats);
  progress(`streamed turns start ~${Math.round(performance.now() - startedAt)} ms after start-up`);
  const perPart: number[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const ticksBefore = cluster.replicas.map((replica) => userSystemTicks(replica.pid));
    const begin = await cluster.snapshot('start');
    const result = await streamRep(ctx, watches, { name: 'profile', script });
    const end = await cluster.snapshot('end');
    const cpuUs =
      (delta(begin, end, 'procCpu')! - (idle.cpuMsPerSecond * (end.at - begin.at)) / 1e6) * 1e6;
    perPart.push(cpuUs / result.partsDelivered);
    const ticks = cluster.replicas.map((replica, i) => {
      const [user, system] = userSystemTicks(replica.pid);
      return [user - ticksBefore[i]![0], system - ticksBefore[i]![1]];
    });
    const user = ticks.reduce((sum, [u]) => sum + u!, 0);
    const system = ticks.reduce((sum, [, s]) => sum + s!, 0);
    progress(
      `rep ${rep}: ${result.partsDelivered} parts, ${(cpuUs / result.partsDelivered).toFixed(0)} µs/part, ` +
        `user ${user} / system ${system} ticks, wall ÷ raw ${result.ratio.toFixed(2)}, failures ${result.failedChats}/${result.wrongText}/${result.incompleteParts}`,
    );
  }
  for (const watch of watches) watch.close();
  console.log(
    `CPU per delivered delta: median ${median(perPart).toFixed(0)} µs (${perPart.map((v) => v.toFixed(0)).join(', ')}); load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await cluster.stop();
}

main().then(
  () => cleanupAll(),
  async (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanupAll();
    process.exit(1);
  },
);
