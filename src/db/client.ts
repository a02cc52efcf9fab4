import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { migrate, type SqlExecutor } from './migrator.js';

export type { PrismaClient } from '../generated/prisma/client.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** One Prisma client over either backend; the rest of the code does not know which. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly prisma: PrismaClient;
  /** Throws when the database cannot answer (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres URL; when absent, PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database (tests). */
  pgliteDataDir: string;
  /** Postgres pool size per process. Default 10. */
  poolSize?: number;
}

const DEFAULT_POOL_SIZE = 10;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize ?? DEFAULT_POOL_SIZE)
    : openPglite(options.pgliteDataDir);
}

async function openPostgres(connectionString: string, poolSize: number): Promise<Database> {
  // Migrations run on a dedicated connection: they need multi-statement exec and a session lock.
  const migrationClient = new pg.Client({ connectionString });
  await migrationClient.connect();
  try {
    await migrate(pgExecutor(migrationClient), { advisoryLock: true });
  } finally {
    await migrationClient.end();
  }
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString, max: poolSize }),
  });
  return {
    kind: 'postgres',
    prisma,
    ping: async () => {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
    close: () => prisma.$disconnect(),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  await migrate(pgliteExecutor(pglite), { advisoryLock: false });
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    kind: 'pglite',
    prisma,
    ping: async () => {
      await pglite.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
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
