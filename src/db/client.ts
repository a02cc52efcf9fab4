import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { migrate, type SqlExecutor } from './migrator.js';
import { pgliteSql, pgSql, type Sql } from './sql.js';

export type { PrismaClient } from '../generated/prisma/client.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** One Prisma client over either backend; the rest of the code does not know which. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  /** The daemon's hot-path SQL, on the same pool or PGlite instance as `prisma` (src/db/sql.ts). */
  readonly sql: Sql;
  /** Throws when the database cannot answer (readiness probe). */
  ping(): Promise<void>;
  /**
   * SQL statements sent to the database since it was opened (BEGIN and COMMIT included, the
   * migration excluded): `/metrics` and the round-trip regression tests read it.
   */
  statementCount(): number;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres URL; when absent, PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database (tests). */
  pgliteDataDir: string;
  /** Postgres pool size per process. Default 20. */
  poolSize?: number;
  /**
   * Told when an idle pooled connection fails (Postgres restarted, the connection was killed).
   * The pool replaces it; without a listener, node-postgres's 'error' event would end the process.
   */
  onIdleConnectionError?: (error: Error) => void;
}

/**
 * A replica runs up to 200 turns at once (CHAT_MAX_CONCURRENT); each holds a connection only for
 * a statement or a short transaction, so 20 connections serve them, and two replicas plus the
 * tools stay well inside Postgres's default max_connections (100).
 */
const DEFAULT_POOL_SIZE = 20;
/**
 * How long a transaction may wait for a pooled connection (Prisma's default is 2 s). A burst of
 * hundreds of createChat calls queues for the pool; waiting is better than failing them.
 */
const TRANSACTION_MAX_WAIT_MS = 15_000;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl
    ? openPostgres(
        options.databaseUrl,
        options.poolSize ?? DEFAULT_POOL_SIZE,
        options.onIdleConnectionError ?? (() => undefined),
      )
    : openPglite(options.pgliteDataDir);
}

async function openPostgres(
  connectionString: string,
  poolSize: number,
  onIdleConnectionError: (error: Error) => void,
): Promise<Database> {
  // Migrations run on a dedicated connection: they need multi-statement exec and a session lock.
  const migrationClient = new pg.Client({ connectionString });
  await migrationClient.connect();
  try {
    await migrate(pgExecutor(migrationClient), { advisoryLock: true });
  } finally {
    await migrationClient.end();
  }
  const counter = { statements: 0 };
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // Prisma's adapter listens only once it has connected, and the daemon's statements bypass it.
  pool.on('error', onIdleConnectionError);
  // Every statement, pooled or in a transaction, goes through some pooled client's query().
  pool.on('connect', (client) => countClientQueries(client, counter));
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    transactionOptions: { maxWait: TRANSACTION_MAX_WAIT_MS },
  });
  return {
    kind: 'postgres',
    prisma,
    sql: pgSql(pool),
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    statementCount: () => counter.statements,
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  await migrate(pgliteExecutor(pglite), { advisoryLock: false });
  const counter = { statements: 0 };
  countPgliteQueries(pglite, counter);
  const prisma = new PrismaClient({
    adapter: new PrismaPGlite(pglite),
    transactionOptions: { maxWait: TRANSACTION_MAX_WAIT_MS },
  });
  return {
    kind: 'pglite',
    prisma,
    // After countPgliteQueries: its statements are counted like Prisma's.
    sql: pgliteSql(pglite),
    ping: async () => {
      await pglite.query('SELECT 1');
    },
    statementCount: () => counter.statements,
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

interface StatementCounter {
  statements: number;
}

/** Counts each query() of a pooled pg client: one call is one statement on the wire. */
function countClientQueries(client: pg.PoolClient, counter: StatementCounter) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    counter.statements++;
    return query(...args);
  };
}

/**
 * PGlite's public query/exec, and its transactions (which send BEGIN and COMMIT or ROLLBACK
 * themselves, so one transaction counts those two plus what runs in it, as on Postgres).
 */
function countPgliteQueries(db: PGlite, counter: StatementCounter) {
  const query = db.query.bind(db);
  const exec = db.exec.bind(db);
  const transaction = db.transaction.bind(db);
  db.query = (...args) => {
    counter.statements++;
    return query(...args);
  };
  db.exec = (...args) => {
    counter.statements++;
    return exec(...args);
  };
  db.transaction = (callback) => {
    counter.statements += 2;
    return transaction((tx) => {
      const txQuery = tx.query.bind(tx);
      const txExec = tx.exec.bind(tx);
      const txSql = tx.sql.bind(tx);
      const txRollback = tx.rollback.bind(tx);
      return callback({
        ...tx,
        get closed() {
          return tx.closed;
        },
        query: (...args) => {
          counter.statements++;
          return txQuery(...args);
        },
        exec: (...args) => {
          counter.statements++;
          return txExec(...args);
        },
        sql: (...args) => {
          counter.statements++;
          return txSql(...args);
        },
        // The ROLLBACK replaces the COMMIT counted up front.
        rollback: txRollback,
      });
    });
  };
}

function pgExecutor(client: pg.Client): SqlExecutor {
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as Row[],
  };
}

function pgliteExecutor(db: PGlite): SqlExecutor {
  return {
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async <Row>(sql: string, params?: unknown[]) => (await db.query<Row>(sql, params)).rows,
  };
}
