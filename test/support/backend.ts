import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.js';

/**
 * Which backend this vitest project runs against (vitest.config.ts sets TEST_BACKEND):
 * `embedded` is PGlite + in-process pub/sub, `services` is the machine's Postgres + Redis.
 * Every test server gets a database of its own, so test files run in parallel.
 */
export type Backend = 'embedded' | 'services';
export const backend: Backend =
  process.env['TEST_BACKEND'] === 'services' ? 'services' : 'embedded';

export const POSTGRES_ADMIN_URL =
  process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `agentgraph_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdminClient((client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface BackendEnv {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Environment for one server (or several replicas sharing it) on this project's backend. */
export async function createBackendEnv(kind: Backend = backend): Promise<BackendEnv> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'agentgraph-test-'));
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    WORKSPACES_DIR: path.join(dataDir, 'workspaces'),
    SECRET_KEY: randomBytes(24).toString('hex'),
  };
  let database: TestDatabase | undefined;
  if (kind === 'services') {
    database = await createPostgresDatabase();
    env['DATABASE_URL'] = database.url;
    env['REDIS_URL'] = TEST_REDIS_URL;
  }
  return {
    env,
    cleanup: async () => {
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A migrated database for tests that need no server: `dispose` closes it and drops it. */
export interface MigratedDatabase extends Database {
  dispose(): Promise<void>;
}

/** A fresh Postgres database (services) or an in-memory PGlite (embedded), migrated. */
export async function openMigratedDatabase(kind: Backend = backend): Promise<MigratedDatabase> {
  const postgres = kind === 'services' ? await createPostgresDatabase() : undefined;
  const database = await openDatabase({ databaseUrl: postgres?.url, pgliteDataDir: 'memory://' });
  return Object.assign(database, {
    dispose: async () => {
      await database.close();
      await postgres?.drop();
    },
  });
}
