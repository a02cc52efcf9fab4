import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Gql } from './client.js';
import {
  baseEnv,
  cpuSeconds,
  onCleanup,
  progress,
  rssBytes,
  spawnChild,
  type Child,
  type StartCommand,
} from './processes.js';

/**
 * The system under test: a fresh Postgres database, Redis, the fake LLM in its own process and
 * two replicas started as `npm start` would, configured through the GraphQL API.
 */

export const POSTGRES_URL =
  process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SERVICE_TIMEOUT_MS = 3_000;
const REPLICA_START_TIMEOUT_MS = 60_000;
const FAKE_START_TIMEOUT_MS = 30_000;
const REPLICA_NAMES = ['a', 'b'] as const;

/** Fails with a message saying what to start when Postgres or Redis does not answer. */
export async function checkServices(): Promise<void> {
  const client = new pg.Client({
    connectionString: POSTGRES_URL,
    connectionTimeoutMillis: SERVICE_TIMEOUT_MS,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `bench needs Postgres at ${POSTGRES_URL} (user postgres, trust auth; BENCH_POSTGRES_URL ` +
        `overrides it): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(REDIS_URL);
  const pong = await new Promise<string>((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, SERVICE_TIMEOUT_MS);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString('utf8').trim());
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve(error.message);
    });
  });
  if (pong !== '+PONG') {
    throw new Error(
      `bench needs Redis at ${REDIS_URL} (BENCH_REDIS_URL overrides it): PING answered "${pong}"`,
    );
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** For the bench's own reads (chat status, titles); its statements are not the server's. */
  pool: pg.Pool;
}

/** A fresh database for this run, dropped on exit whatever happens. */
export async function createDatabase(): Promise<BenchDatabase> {
  const name = `agentgraph_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // The drop at the end cuts idle connections; that must not crash the bench.
  pool.on('error', () => undefined);
  onCleanup(async () => {
    await pool.end().catch(() => undefined);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
    progress(`dropped database ${name}`);
  });
  return { name, url: url.toString(), pool };
}

export interface FakeLlmProcess {
  baseUrl: string;
  child: Child;
  /** Lets every held stream (script.hold) continue. */
  release(): void;
}

export async function startFakeLlmProcess(): Promise<FakeLlmProcess> {
  const child = spawnChild('fake-llm', ['--import', 'tsx', 'bench/fake-llm.ts'], baseEnv(), {
    stdin: true,
  });
  const line = await child.waitForLine((l) => l.startsWith('{"baseUrl"'), FAKE_START_TIMEOUT_MS);
  const { baseUrl } = JSON.parse(line) as { baseUrl: string };
  return { baseUrl, child, release: () => child.process.stdin!.write('release\n') };
}

export interface Replica {
  name: string;
  pid: number;
  url: string;
  child: Child;
}

export interface Metrics {
  statements: number;
  cpuSeconds: number;
  rssBytes: number;
  chatsRunning: number;
}

/** GET /metrics of a replica; undefined when the server has none (or a figure is missing). */
export async function scrapeMetrics(replica: Replica): Promise<Partial<Metrics> | undefined> {
  const response = await fetch(replica.url.replace(/\/graphql$/, '/metrics')).catch(
    () => undefined,
  );
  if (!response?.ok) return undefined;
  const text = await response.text();
  const value = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const user = value('process_cpu_user_seconds_total');
  const system = value('process_cpu_system_seconds_total');
  return {
    statements: value('agentgraph_sql_statements_total'),
    cpuSeconds: user !== undefined && system !== undefined ? user + system : undefined,
    rssBytes: value('process_resident_memory_bytes'),
    chatsRunning: value('agentgraph_chats_running'),
  };
}

/** CPU (kernel and server's own), SQL statements, RSS of every replica at one moment. */
export interface Snapshot {
  at: number;
  procCpu: number[];
  rss: number[];
  metrics: (Partial<Metrics> | undefined)[];
}

export interface Cluster {
  replicas: Replica[];
  token: string;
  /** Settings the replicas were started with on top of the defaults. */
  overrides: Record<string, string>;
  gql(index: number): Gql;
  /**
   * `metricsFirst`: scrape before reading /proc (a window's start), else after (its end), so the
   * scrape's own CPU stays out of the window.
   */
  snapshot(position: 'start' | 'end'): Promise<Snapshot>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  start: StartCommand;
  database: BenchDatabase;
  fake: FakeLlmProcess;
  token: string;
  secretKey: string;
  overrides?: Record<string, string>;
}

const BENCH_MUTATION_RATE_LIMIT = 1_000_000;

/** Two replicas on the same database and Redis, started together (migrations take a lock). */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const overrides = options.overrides ?? {};
  const dataDir = await mkdtemp(path.join(tmpdir(), 'agentgraph-bench-'));
  onCleanup(() => rm(dataDir, { recursive: true, force: true }));
  const replicas = await Promise.all(
    REPLICA_NAMES.map(async (name) => {
      // BENCH_REPLICA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the replicas.
      const nodeArgs = (process.env['BENCH_REPLICA_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
      const child = spawnChild(name, [...nodeArgs, ...options.start.args], {
        ...baseEnv(),
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: path.join(dataDir, name),
        DATABASE_URL: options.database.url,
        REDIS_URL,
        SECRET_KEY: options.secretKey,
        BOOTSTRAP_ADMIN_TOKEN: options.token,
        WORKER_ID: `bench-${name}`,
        // One user (the bench's admin) sends every chat's mutations: hundreds within a minute at
        // C = 200. The per-user limit guards a shared service from one member, not the engine
        // under test, so it is lifted here.
        MUTATION_RATE_LIMIT: String(BENCH_MUTATION_RATE_LIMIT),
        ...overrides,
      });
      const line = await child.waitForLine(
        (l) => l.includes('agentgraph listening'),
        REPLICA_START_TIMEOUT_MS,
      );
      const url = /"url"\s*:\s*"([^"]+)"/.exec(line)?.[1];
      if (!url) throw new Error(`replica ${name}: no url in "${line}"`);
      return { name, pid: child.pid, url, child };
    }),
  );
  const clients = replicas.map((replica) => new Gql(replica.url, options.token));
  const snapshot = async (position: 'start' | 'end'): Promise<Snapshot> => {
    const scrape = () => Promise.all(replicas.map(scrapeMetrics));
    const metrics = position === 'start' ? await scrape() : undefined;
    const at = performance.now();
    const procCpu = replicas.map((replica) => cpuSeconds(replica.pid));
    const rss = replicas.map((replica) => rssBytes(replica.pid));
    return { at, procCpu, rss, metrics: metrics ?? (await scrape()) };
  };
  return {
    replicas,
    token: options.token,
    overrides,
    gql: (index) => clients[index % clients.length]!,
    snapshot,
    async stop() {
      await Promise.all(replicas.map((replica) => replica.child.stop()));
    },
  };
}

/** Creates the provider pointing at the fake and the default model config (once per database). */
export async function configureModel(admin: Gql, fakeBaseUrl: string): Promise<void> {
  const provider = await admin.query<{ createProvider: { id: string } }>(
    `mutation ($baseUrl: String!) {
      createProvider(input: { kind: OPENAI_COMPATIBLE, displayName: "Bench fake", baseUrl: $baseUrl, apiKey: "sk-bench" }) { id }
    }`,
    { baseUrl: fakeBaseUrl },
  );
  await admin.query(
    `mutation ($input: CreateModelConfigInput!) { createModelConfig(input: $input) { id } }`,
    {
      input: {
        providerId: provider.createProvider.id,
        model: 'bench-model',
        contextLimit: 1_000_000,
        isDefault: true,
        inputPriceMicros: 150_000,
        outputPriceMicros: 600_000,
      },
    },
  );
}

/** Sum over replicas of `end − start` for one figure; undefined when any replica lacks it. */
export function delta(
  start: Snapshot,
  end: Snapshot,
  figure: 'procCpu' | keyof Metrics,
): number | undefined {
  if (figure === 'procCpu') {
    return end.procCpu.reduce((sum, value, i) => sum + value - start.procCpu[i]!, 0);
  }
  let sum = 0;
  for (let i = 0; i < end.metrics.length; i++) {
    const a = start.metrics[i]?.[figure];
    const b = end.metrics[i]?.[figure];
    if (a === undefined || b === undefined) return undefined;
    sum += b - a;
  }
  return sum;
}
