import type { CostRep, HeldRun, IdleRates, StreamRep } from './scenarios.js';
import { spread, type Spread } from './stats.js';

/** The printed table (markdown, so it can go into the README as is) and its summary figures. */

export interface Row {
  figure: string;
  median: string;
  spread: string;
  note: string;
}

type Unit = 'ms' | 'µs' | 'x' | 'n' | 'MiB';

function format(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = value.toFixed(digits);
  if (unit === 'x') return `${number}×`;
  if (unit === 'n') return number;
  return `${number} ${unit}`;
}

function spreadRow(figure: string, s: Spread, unit: Unit, note = ''): Row {
  const range =
    s.values.length > 1 && Number.isFinite(s.min)
      ? `${format(s.min, unit)} – ${format(s.max, unit)}`
      : '—';
  return { figure, median: format(s.median, unit), spread: range, note };
}

const fromReps = <T>(reps: T[], pick: (rep: T) => number | undefined) =>
  spread(reps.map((rep) => pick(rep) ?? Number.NaN));

export interface StreamGroup {
  concurrency: number;
  profile: string;
  reps: StreamRep[];
}

export function buildRows(
  cost: CostRep[],
  idle: IdleRates,
  streams: StreamGroup[],
  held: HeldRun | undefined,
  apiErrors: string[],
) {
  const rows: Row[] = [];
  const turns = cost[0]?.chats ?? 0;
  const tokens = cost[0]?.tokensPerStreamedTurn ?? 0;
  rows.push(
    spreadRow(
      'server CPU per trivial turn ("hi", title included)',
      fromReps(cost, (r) => r.trivialCpuMs),
      'ms',
      `${turns} createChat turns per rep, both replicas, /proc, net of idle ${format(idle.cpuMsPerSecond, 'ms')}/s (gross ${format(fromReps(cost, (r) => r.trivialCpuMsGross).median, 'ms')})`,
    ),
    spreadRow(
      'server CPU per delivered delta (one subscriber)',
      fromReps(cost, (r) => r.cpuPerPartUs),
      'µs',
      `${turns} chats × ${tokens} tokens at 20 ms; parts counted at subscribers: ${cost.map((r) => r.partsDelivered).join(', ')}`,
    ),
    spreadRow(
      'server CPU per streamed token (same runs)',
      fromReps(cost, (r) => r.cpuPerTokenUs),
      'µs',
      'extra CPU of the streamed turns ÷ extra provider chunks',
    ),
    spreadRow(
      'SQL statements per trivial turn',
      fromReps(cost, (r) => r.trivialStatements),
      'n',
      `agentgraph_sql_statements_total, both replicas, net of idle ${format(idle.statementsPerSecond ?? Number.NaN, 'n')}/s`,
    ),
    spreadRow(
      'SQL statements per later "hi" turn / streamed turn',
      fromReps(cost, (r) => r.secondTurnStatements),
      'n',
      `streamed (${tokens} tokens): ${format(fromReps(cost, (r) => r.streamedTurnStatements).median, 'n')}`,
    ),
  );
  for (const group of streams) {
    const label = `C=${group.concurrency} ${group.profile}`;
    const rawWall = fromReps(group.reps, (r) => r.rawWallMs).median;
    const wall = fromReps(group.reps, (r) => r.wallMs).median;
    const failed = group.reps.reduce((sum, r) => sum + r.failedChats, 0);
    const wrong = group.reps.reduce((sum, r) => sum + r.wrongText, 0);
    const incomplete = group.reps.reduce((sum, r) => sum + r.incompleteParts, 0);
    const problems = [
      failed ? `${failed} turns ended in ERROR` : '',
      wrong ? `${wrong} subscribers got a wrong answer` : '',
      incomplete ? `${incomplete} subscribers missed deltas (message complete)` : '',
    ].filter(Boolean);
    rows.push(
      spreadRow(
        `wall ÷ raw stream, ${label}`,
        fromReps(group.reps, (r) => r.ratio),
        'x',
        [`agentgraph ${format(wall, 'ms')}, raw ${format(rawWall, 'ms')}`, ...problems].join('; '),
      ),
    );
  }
  for (const group of streams) {
    const label = `C=${group.concurrency} ${group.profile}`;
    const p99 = fromReps(group.reps, (r) => r.firstPartP99Ms);
    rows.push(
      spreadRow(
        `send → first part − provider first token, p50, ${label}`,
        fromReps(group.reps, (r) => r.firstPartP50Ms),
        'ms',
        `p99 ${format(p99.median, 'ms')} (${format(p99.min, 'ms')} – ${format(p99.max, 'ms')}); provider ${format(fromReps(group.reps, (r) => r.providerFirstTokenMs).median, 'ms')}`,
      ),
    );
  }
  for (const group of streams) {
    const label = `C=${group.concurrency} ${group.profile}`;
    const p99 = fromReps(group.reps, (r) => r.sendToRunningP99Ms);
    const seen50 = fromReps(group.reps, (r) => r.pendingToRunningP50Ms).median;
    const seen99 = fromReps(group.reps, (r) => r.pendingToRunningP99Ms).median;
    rows.push(
      spreadRow(
        `send → RUNNING seen, p50, ${label}`,
        fromReps(group.reps, (r) => r.sendToRunningP50Ms),
        'ms',
        `p99 ${format(p99.median, 'ms')} (${format(p99.min, 'ms')} – ${format(p99.max, 'ms')}); PENDING → RUNNING as seen: p50 ${format(seen50, 'ms')}, p99 ${format(seen99, 'ms')}`,
      ),
    );
  }
  if (held) {
    rows.push({
      figure: `RSS per replica at ${held.chats} running chats`,
      median: held.rssMiB.map((mib) => format(mib, 'MiB')).join(' / '),
      spread: '—',
      note: `idle ${held.rssIdleMiB.map((mib) => format(mib, 'MiB')).join(' / ')}; running ${JSON.stringify(held.runningPerReplica)}`,
    });
    const extra =
      held.heldStatementsPerInterval !== undefined && held.idleStatementsPerInterval !== undefined
        ? held.heldStatementsPerInterval - held.idleStatementsPerInterval
        : Number.NaN;
    rows.push({
      figure: `SQL statements per heartbeat interval, ${held.chats} running`,
      median: format(held.heldStatementsPerInterval ?? Number.NaN, 'n'),
      spread: '—',
      note: `both replicas, interval ${held.heartbeatIntervalMs} ms over ${held.windowMs} ms; idle ${format(held.idleStatementsPerInterval ?? Number.NaN, 'n')} → ${format(extra, 'n')} for the running chats`,
    });
  }
  const failedTurns = cost.reduce((sum, r) => sum + r.failedTurns, 0) + (held?.failedChats ?? 0);
  const wrongAnswers = cost.reduce((sum, r) => sum + r.wrongText, 0) + (held?.wrongText ?? 0);
  const missedDeltas =
    cost.reduce((sum, r) => sum + r.incompleteParts, 0) + (held?.incompleteParts ?? 0);
  if (failedTurns + wrongAnswers + missedDeltas > 0) {
    rows.push({
      figure: 'turns in ERROR / wrong answers / missed deltas, cost + held',
      median: `${failedTurns} / ${wrongAnswers} / ${missedDeltas}`,
      spread: '—',
      note: 'missed deltas: parts ≠ answer while the MessageEvent is right; see results.json',
    });
  }
  rows.push({
    figure: 'API mutations that failed with a server error',
    median: String(apiErrors.length),
    spread: '—',
    note: apiErrors.length
      ? `retried when not stored; first: ${apiErrors[0]!.slice(0, 120)}`
      : 'none',
  });
  return rows;
}

export function renderTable(rows: Row[]): string {
  const header: Row = {
    figure: 'figure',
    median: 'median',
    spread: 'spread (min – max)',
    note: 'notes',
  };
  const all = [header, ...rows];
  const widths = (['figure', 'median', 'spread', 'note'] as const).map((key) =>
    Math.max(...all.map((row) => row[key].length)),
  );
  const line = (row: Row) =>
    `| ${(['figure', 'median', 'spread', 'note'] as const).map((key, i) => row[key].padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
