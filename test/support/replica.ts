import { afterAll, beforeAll, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { FakeLlm } from '../../src/testing/fake-llm/index.js';
import { createBackendEnv, type BackendEnv } from './backend.js';
import { TestClient, type EventStream } from './client.js';
import { configureFakeModel, startScriptedLlm } from './llm.js';

/**
 * Real server processes (`node --import tsx src/main.ts`) sharing one Postgres database and Redis,
 * for the multi-replica tests (test/replicas). A replica is ready when it logs
 * `agentgraph listening`; tests wait on its log lines and its exit, never on time.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const DEFAULT_LOG_TIMEOUT_MS = 20_000;

/** Short daemon intervals so recovery happens within a test (B9). */
export const REPLICA_INTERVALS = {
  CHAT_ACQUIRE_INTERVAL_MS: 100,
  CHAT_HEARTBEAT_INTERVAL_MS: 300,
  CHAT_STALE_AFTER_MS: 1_500,
} as const;

/** One line of a replica's stderr: the JSON logger's fields, or `{ msg: line }` for plain text. */
export interface LogLine {
  msg: string;
  level?: string;
  [field: string]: unknown;
}

export interface ReplicaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Replica {
  readonly name: string;
  /** WORKER_ID of its daemon (the chats.worker_id it writes); undefined without a daemon. */
  readonly workerId: string | undefined;
  /** http://127.0.0.1:<port>/graphql */
  readonly url: string;
  readonly pid: number;
  client(token: string | null): TestClient;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<ReplicaExit>;
  logs(): LogLine[];
  /** Waits for a log line (already written or to come) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

const children = new Set<ChildProcess>();

function killLeftovers() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
// A vitest worker that dies mid-test must not leave servers behind.
process.once('exit', killLeftovers);

function parseLine(raw: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && typeof (parsed as LogLine).msg === 'string') {
      return parsed as LogLine;
    }
  } catch {
    // Not a JSON log line (main.ts prints a few plain lines).
  }
  return { msg: raw };
}

/**
 * Starts one replica with `env` on top of a minimal base environment (nothing of the test
 * process leaks in), on a free port. Resolves once it listens; rejects with its logs when it
 * exits or stays silent first.
 */
export async function spawnReplica(
  env: Record<string, string>,
  name = env['WORKER_ID'] ?? 'replica',
): Promise<Replica> {
  const baseEnv: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) baseEnv[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...baseEnv, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  let exit: ReplicaExit | undefined;
  const exited = new Promise<ReplicaExit>((resolve) => {
    // 'close' comes after the last line of output, so waiters see every line before the exit.
    child.once('close', (code, signal) => {
      children.delete(child);
      exit = { code, signal };
      resolve(exit);
      notify();
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (raw) => {
      lines.push(parseLine(raw));
      if (process.env['TEST_REPLICA_LOGS']) process.stderr.write(`[${name}] ${raw}\n`);
      notify();
    });
  }

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = DEFAULT_LOG_TIMEOUT_MS) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          done();
          resolve(found);
        } else if (exit) {
          done();
          reject(new Error(`replica ${name} exited; logs:\n${dump(lines)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`replica ${name}: no matching log line in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  let url: string;
  try {
    const listening = await waitForLog(
      (line) => line.msg === 'agentgraph listening',
      START_TIMEOUT_MS,
    );
    url = String(listening['url']);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    name,
    workerId: env['DAEMON_ENABLED'] === 'false' ? undefined : env['WORKER_ID'],
    url,
    pid: child.pid!,
    client: (token) => new TestClient(url, token),
    kill: (signal) => {
      child.kill(signal);
    },
    exited,
    logs: () => [...lines],
    waitForLog,
  };
}

function dump(lines: LogLine[]) {
  return lines.map((line) => JSON.stringify(line)).join('\n');
}

export interface ReplicaSpec {
  name: string;
  /** Default true. */
  daemon?: boolean;
  env?: Record<string, string>;
}

export interface MessageRow {
  id: string;
  role: string;
  parts: { type: string; text?: string }[];
  deleted: boolean;
}

export interface ChatRow {
  status: string;
  workerId: string | null;
  leaseEpoch: number;
}

/**
 * Several replicas on one fresh database, the scripted LLM they all use, an admin and a member
 * token, and direct SQL access for assertions on what was persisted.
 */
export interface ReplicaCluster {
  llm: FakeLlm;
  replicas: Record<string, Replica>;
  adminToken: string;
  memberToken: string;
  /** Shared environment of every replica (database, Redis, secret, intervals). */
  env: Record<string, string>;
  db: pg.Pool;
  spawn(spec: ReplicaSpec): Promise<Replica>;
  chat(chatId: string): Promise<ChatRow>;
  messages(chatId: string): Promise<MessageRow[]>;
  /** Polls the database until `predicate` holds for the chat; for waits that are about time. */
  waitForChat(
    chatId: string,
    predicate: (chat: ChatRow) => boolean,
    timeoutMs?: number,
  ): Promise<ChatRow>;
  /**
   * Creates a chat as the member and waits until a daemon owns it; returns which replica runs it
   * (the victim of a crash/stop test) and another one (the survivor).
   */
  startOwnedChat(text: string): Promise<OwnedChat>;
  close(): Promise<void>;
}

export interface OwnedChat {
  chatId: string;
  workerId: string;
  leaseEpoch: number;
  victim: Replica;
  survivor: Replica;
}

const POLL_INTERVAL_MS = 50;

/** One cluster per test file: started before its tests, killed and dropped after them. */
export function useReplicaCluster(specs: ReplicaSpec[]) {
  const context = {} as { cluster: ReplicaCluster };
  beforeAll(async () => {
    context.cluster = await startReplicaCluster(specs);
  });
  afterAll(async () => {
    await context.cluster?.close();
  });
  return context;
}

export async function startReplicaCluster(specs: ReplicaSpec[]): Promise<ReplicaCluster> {
  const backendEnv: BackendEnv = await createBackendEnv('services');
  const llm = await startScriptedLlm();
  const db = new pg.Pool({ connectionString: backendEnv.env['DATABASE_URL'], max: 4 });
  // An idle connection cut by the database drop at cleanup must not crash the test worker.
  db.on('error', () => undefined);
  const adminToken = `replica-admin-${randomBytes(12).toString('hex')}`;
  const env: Record<string, string> = {
    ...backendEnv.env,
    BOOTSTRAP_ADMIN_TOKEN: adminToken,
    ...Object.fromEntries(
      Object.entries(REPLICA_INTERVALS).map(([key, value]) => [key, String(value)]),
    ),
  };
  const replicas: Record<string, Replica> = {};
  let closed = false;
  const spawnOne = async (spec: ReplicaSpec) => {
    const replica = await spawnReplica(
      {
        ...env,
        WORKER_ID: `worker-${spec.name}`,
        DAEMON_ENABLED: spec.daemon === false ? 'false' : 'true',
        ...spec.env,
      },
      spec.name,
    );
    // One that finished starting after a failed start already closed the cluster.
    if (closed) replica.kill('SIGKILL');
    replicas[spec.name] = replica;
    return replica;
  };

  const close = async () => {
    closed = true;
    // SIGKILL works on a SIGSTOPped process too; the database is dropped WITH (FORCE).
    for (const replica of Object.values(replicas)) replica.kill('SIGKILL');
    await Promise.all(Object.values(replicas).map((replica) => replica.exited));
    await db.end();
    await llm.close();
    await backendEnv.cleanup();
  };

  try {
    // Migrations take an advisory lock and the admin bootstrap tolerates a race: start together.
    await Promise.all(specs.map(spawnOne));
    const first = replicas[specs[0]!.name]!;
    const admin = first.client(adminToken);
    await configureFakeModel(admin, llm);
    const user = await admin.query<{ createUser: { id: string } }>(
      `mutation { createUser(input: { username: "member", role: MEMBER }) { id } }`,
    );
    const token = await admin.query<{ createApiToken: { token: string } }>(
      `mutation ($userId: ID!) { createApiToken(name: "test", userId: $userId) { token } }`,
      { userId: user.createUser.id },
    );
    const chat = async (chatId: string): Promise<ChatRow> => {
      const result = await db.query<ChatRow>(
        `SELECT status::text AS status, worker_id AS "workerId", lease_epoch AS "leaseEpoch"
         FROM chats WHERE id = $1`,
        [chatId],
      );
      const row = result.rows[0];
      if (!row) throw new Error(`chat ${chatId} not found`);
      return row;
    };
    const waitForChat: ReplicaCluster['waitForChat'] = async (
      chatId,
      predicate,
      timeoutMs = DEFAULT_LOG_TIMEOUT_MS,
    ) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = await chat(chatId);
        if (predicate(row)) return row;
        if (Date.now() > deadline) {
          throw new Error(`chat ${chatId} still ${JSON.stringify(row)} after ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    };
    const memberToken = token.createApiToken.token;
    return {
      llm,
      replicas,
      adminToken,
      memberToken,
      env,
      db,
      spawn: spawnOne,
      chat,
      async messages(chatId) {
        const result = await db.query<MessageRow>(
          `SELECT id::text AS id, role::text AS role, parts, deleted
           FROM chat_messages WHERE chat_id = $1 ORDER BY chat_messages.id`,
          [chatId],
        );
        return result.rows;
      },
      waitForChat,
      async startOwnedChat(text) {
        const member = first.client(memberToken);
        const chatId = await createChat(member, text);
        await llm.waitForRequests(1);
        const { workerId, leaseEpoch } = await waitForChat(chatId, (row) => !!row.workerId);
        const victim = Object.values(replicas).find((replica) => replica.workerId === workerId);
        const survivor = Object.values(replicas).find((replica) => replica !== victim);
        if (!victim || !survivor || !workerId) throw new Error(`no replica runs chat ${chatId}`);
        return { chatId, workerId, leaseEpoch, victim, survivor };
      },
      close,
    };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}

/** chatEvents with every field the replica tests look at. */
export const CHAT_EVENTS = `subscription ($chatId: ID!, $after: ID) {
  chatEvents(chatId: $chatId, afterMessageId: $after) {
    __typename
    ... on StatusEvent { status }
    ... on MessageEvent { message { id role parts { type ... on TextPart { text } } } }
    ... on MessagePartEvent { messageId role part { type ... on TextPart { text } } }
    ... on ErrorEvent { errorMessage: message }
  }
}`;

export interface StreamPart {
  type: string;
  text?: string | null;
}

export interface ChatEventData {
  chatEvents: {
    __typename: string;
    status?: string;
    message?: { id: string; role: string; parts: StreamPart[] };
    messageId?: string | null;
    role?: string;
    part?: StreamPart;
    errorMessage?: string;
  };
}

export const isStatus = (status: string) => (event: ChatEventData) =>
  event.chatEvents.__typename === 'StatusEvent' && event.chatEvents.status === status;
export const isPart = (event: ChatEventData) => event.chatEvents.__typename === 'MessagePartEvent';
export const isMessage = (event: ChatEventData) => event.chatEvents.__typename === 'MessageEvent';

/** Creates a chat as `client` and returns its id. */
export async function createChat(client: TestClient, text: string): Promise<string> {
  const created = await client.query<{ createChat: { id: string } }>(
    `mutation ($text: String!) { createChat(input: { text: $text }) { id } }`,
    { text },
  );
  return created.createChat.id;
}

/** Text of a message's TEXT parts, joined. */
export const textOf = (parts: { type: string; text?: string | null }[]) =>
  parts
    .filter((part) => part.type === 'TEXT')
    .map((part) => part.text ?? '')
    .join('');

/**
 * The end of a recovered turn: every persisted message (`rows`, in order) reached `stream` once,
 * and the chat is WAITING and released, exactly one lease epoch after `leaseEpoch` (one takeover).
 */
export async function expectFinishedAfterOneTakeover(
  cluster: ReplicaCluster,
  chatId: string,
  stream: EventStream<ChatEventData>,
  rows: MessageRow[],
  leaseEpoch: number,
) {
  const streamed = stream.events
    .map((event) => event.chatEvents.message)
    .filter((message) => message !== undefined);
  expect(streamed.map((message) => message.id)).toEqual(rows.map((row) => row.id));
  expect(await cluster.chat(chatId)).toEqual({
    status: 'WAITING',
    workerId: null,
    leaseEpoch: leaseEpoch + 1,
  });
}
