/**
 * Summarises V8 .cpuprofile files (from `node --cpu-prof`, e.g. the replicas of
 * `BENCH_REPLICA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --cost`):
 * the functions with the most self time, and inclusive time per module (package or source file).
 *
 *   node --import tsx bench/profile-summary.ts [--skip-ms N] [--top N] FILE.cpuprofile...
 *
 * `--skip-ms` drops the first N ms of each profile (start-up, before the measured scenario).
 * `--callers NAME` also splits the self time of the functions named NAME (e.g. `writev`) by the
 * nearest application or package frame on their stacks (not node's own modules).
 * Inclusive time counts a sample once per module on its stack, however deep the recursion.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
let skipMs = 0;
let top = 40;
let callersOf: string | undefined;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '--skip-ms') skipMs = Number(args[++i]);
  else if (arg === '--top') top = Number(args[++i]);
  else if (arg === '--callers') callersOf = args[++i];
  else files.push(arg);
}
if (files.length === 0) {
  console.error('usage: bench/profile-summary.ts [--skip-ms N] [--top N] FILE.cpuprofile...');
  process.exit(2);
}

/** A package name (node_modules/…), node's own modules, or the file path under the repo. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nodeModules = url.lastIndexOf('node_modules/');
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const repo = url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|src)\//, '$1/');
  return repo;
}

const selfTime = new Map<string, number>();
const inclusive = new Map<string, number>();
const callers = new Map<string, number>();
let total = 0;

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  let elapsedUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsedUs += delta;
    if (elapsedUs < skipMs * 1000) continue;
    const node = byId.get(profile.samples[i]!)!;
    const frame = node.callFrame;
    const micros = Math.max(delta, 0);
    total += micros;
    const name = `${frame.functionName || '(anonymous)'} ${moduleOf(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
    selfTime.set(name, (selfTime.get(name) ?? 0) + micros);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const { callFrame } = byId.get(id)!;
      if (callFrame.functionName === '(root)') continue;
      seen.add(moduleOf(callFrame.url, callFrame.functionName));
    }
    for (const module of seen) inclusive.set(module, (inclusive.get(module) ?? 0) + micros);
    if (callersOf !== undefined && frame.functionName === callersOf) {
      let caller = '(none)';
      for (let id = parent.get(node.id); id !== undefined; id = parent.get(id)) {
        const { callFrame } = byId.get(id)!;
        if (!callFrame.url || callFrame.url.startsWith('node:')) continue;
        caller = `${callFrame.functionName || '(anonymous)'} ${moduleOf(callFrame.url, callFrame.functionName)}:${callFrame.lineNumber + 1}`;
        break;
      }
      callers.set(caller, (callers.get(caller) ?? 0) + micros);
    }
  }
}

const idle = [...selfTime].filter(([name]) => name.startsWith('(idle)'));
const idleUs = idle.reduce((sum, [, us]) => sum + us, 0);
const busy = total - idleUs;
const percent = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;

console.log(`total ${ms(total)}, idle ${ms(idleUs)}, busy ${ms(busy)} (percentages of busy)\n`);
console.log('top self time:');
for (const [name, us] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (name.startsWith('(idle)')) continue;
  console.log(`${ms(us)} ${percent(us)}  ${name}`);
}
console.log('\ntop inclusive time by module:');
for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  if (name === '(idle)') continue;
  console.log(`${ms(us)} ${percent(us)}  ${name}`);
}
if (callersOf !== undefined) {
  console.log(`\nself time of ${callersOf} by nearest caller outside node:`);
  for (const [name, us] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${ms(us)} ${percent(us)}  ${name}`);
  }
}
