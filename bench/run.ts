/**
 * Benchmarks (`npm run bench`): figures and ratios, never pass/fail. Each scenario runs against
 * the embedded default (PGlite + in-process pub/sub) and, when reachable, Postgres + Redis
 * (BENCH_POSTGRES_URL, BENCH_REDIS_URL; defaults: the local services).
 *
 * - turns: N chats created at once, each a streamed answer from the fake LLM; wall time until all
 *   are WAITING → chats/s and streamed parts/s.
 * - fan-out: S subscribers on one chat whose turn streams P deltas → events delivered/s.
 * - memory: RSS growth over the run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/server/app.js';
import { startFakeLlm, type FakeLlm } from '../src/testing/fake-llm/index.js';

const CHATS = Number(process.env['BENCH_CHATS'] ?? 40);
const SUBSCRIBERS = Number(process.env['BENCH_SUBSCRIBERS'] ?? 50);
const PARTS = Number(process.env['BENCH_PARTS'] ?? 200);
const POSTGRES_URL =
  process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface Backend {
  name: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

async function embedded(): Promise<Backend> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agentgraph-bench-'));
  return {
    name: 'embedded',
    env: { DATA_DIR: dir },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function services(): Promise<Backend | null> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const name = `agentgraph_bench_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'agentgraph-bench-'));
  return {
    name: 'postgres+redis',
    env: {
      DATA_DIR: dir,
      DATABASE_URL: url.toString(),
      REDIS_URL,
      SECRET_KEY: randomBytes(24).toString('hex'),
    },
    cleanup: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One admin token per run: both scenarios share each backend's database. */
const token = `bench-${randomBytes(12).toString('hex')}`;

async function startServer(backend: Backend, llm: FakeLlm) {
  const app = buildApp(
    loadConfig({
      ...backend.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      BOOTSTRAP_ADMIN_TOKEN: token,
      CHAT_ACQUIRE_INTERVAL_MS: '50',
      CHAT_MAX_CONCURRENT: String(CHATS),
      CHAT_ACQUIRE_BATCH: String(CHATS),
    }),
  );
  const { url } = await app.start();
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const provider = await gql<{ createProvider: { id: string } }>(
    'mutation ($u: String!) { createProvider(input: { kind: OPENAI_COMPATIBLE, displayName: "bench", baseUrl: $u }) { id } }',
    { u: llm.baseUrl },
  );
  await gql(
    'mutation ($p: ID!) { createModelConfig(input: { providerId: $p, model: "bench", contextLimit: 100000, isDefault: true }) { id } }',
    { p: provider.createProvider.id },
  );
  const subscribe = (
    query: string,
    variables: Record<string, unknown>,
    onEvent: (data: unknown) => void,
  ) => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    client.subscribe(
      { query, variables },
      { next: (value) => onEvent(value.data), error: () => undefined, complete: () => undefined },
    );
    return () => client.dispose();
  };
  return { app, gql, subscribe };
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function turnsScenario(backend: Backend) {
  const llm = await startFakeLlm({
    fallback: () => ({ text: Array.from({ length: 20 }, (_, i) => `w${i} `) }),
  });
  const server = await startServer(backend, llm);
  try {
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: CHATS }, (_, i) =>
        server.gql<{ createChat: { id: string } }>(
          'mutation ($t: String!) { createChat(input: { text: $t }) { id } }',
          { t: `chat ${i}` },
        ),
      ),
    );
    const chatIds = ids.map((chat) => chat.createChat.id);
    await waitUntil(async () => {
      const rows = await server.app.deps.prisma.chat.count({
        where: { id: { in: chatIds }, status: 'WAITING' },
      });
      return rows === chatIds.length;
    }, 'all chats WAITING');
    const seconds = (performance.now() - started) / 1000;
    return { chatsPerSecond: CHATS / seconds, partsPerSecond: (CHATS * 20) / seconds, seconds };
  } finally {
    await server.app.stop();
    await llm.close();
  }
}

async function fanOutScenario(backend: Backend) {
  const release = { open: () => undefined as void };
  const gate = new Promise<void>((resolve) => (release.open = resolve));
  const llm = await startFakeLlm({
    fallback: (body) =>
      body.stream
        ? { text: Array.from({ length: PARTS }, (_, i) => `p${i} `), gate }
        : { text: 'title' },
  });
  const server = await startServer(backend, llm);
  const disposers: (() => void)[] = [];
  try {
    const chat = await server.gql<{ createChat: { id: string } }>(
      'mutation { createChat(input: { text: "fan out" }) { id } }',
    );
    const id = chat.createChat.id;
    let delivered = 0;
    let waiting = 0;
    let ready = 0;
    const query = `subscription ($id: ID!) { chatEvents(chatId: $id) { __typename ... on StatusEvent { status } ... on MessagePartEvent { messageId } } }`;
    for (let i = 0; i < SUBSCRIBERS; i++) {
      let first = true;
      disposers.push(
        server.subscribe(query, { id }, (data) => {
          const event = (data as { chatEvents: { __typename: string; status?: string } })
            .chatEvents;
          if (first) {
            first = false;
            ready++;
          }
          if (event.__typename === 'MessagePartEvent') delivered++;
          if (event.status === 'WAITING') waiting++;
        }),
      );
    }
    await waitUntil(() => ready === SUBSCRIBERS, 'subscribers ready');
    const started = performance.now();
    release.open();
    await waitUntil(() => waiting === SUBSCRIBERS, 'every subscriber saw WAITING');
    const seconds = (performance.now() - started) / 1000;
    return {
      eventsPerSecond: delivered / seconds,
      delivered,
      expected: SUBSCRIBERS * PARTS,
      seconds,
    };
  } finally {
    for (const dispose of disposers) dispose();
    await server.app.stop();
    await llm.close();
  }
}

async function main() {
  const backends = [await embedded(), await services()].filter((b): b is Backend => b !== null);
  const results: Record<
    string,
    {
      turns: Awaited<ReturnType<typeof turnsScenario>>;
      fanOut: Awaited<ReturnType<typeof fanOutScenario>>;
      rssMiB: number;
    }
  > = {};
  for (const backend of backends) {
    const rssBefore = process.memoryUsage().rss;
    try {
      const turns = await turnsScenario(backend);
      const fanOut = await fanOutScenario(backend);
      results[backend.name] = {
        turns,
        fanOut,
        rssMiB: (process.memoryUsage().rss - rssBefore) / 2 ** 20,
      };
    } finally {
      await backend.cleanup();
    }
    const r = results[backend.name]!;
    console.log(`\n${backend.name}`);
    console.log(
      `  turns:   ${CHATS} chats in ${r.turns.seconds.toFixed(2)} s → ${r.turns.chatsPerSecond.toFixed(1)} chats/s, ${r.turns.partsPerSecond.toFixed(0)} parts/s`,
    );
    console.log(
      `  fan-out: ${SUBSCRIBERS} subscribers × ${PARTS} parts: ${r.fanOut.delivered}/${r.fanOut.expected} delivered in ${r.fanOut.seconds.toFixed(2)} s → ${r.fanOut.eventsPerSecond.toFixed(0)} events/s`,
    );
    console.log(`  memory:  RSS +${r.rssMiB.toFixed(1)} MiB over the run`);
  }
  const [a, b] = Object.keys(results);
  if (a && b) {
    const ra = results[a]!;
    const rb = results[b]!;
    console.log(`\nratios ${b} / ${a}`);
    console.log(
      `  turns chats/s:     ${(rb.turns.chatsPerSecond / ra.turns.chatsPerSecond).toFixed(2)}×`,
    );
    console.log(
      `  fan-out events/s:  ${(rb.fanOut.eventsPerSecond / ra.fanOut.eventsPerSecond).toFixed(2)}×`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
