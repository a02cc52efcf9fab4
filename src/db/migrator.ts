import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The project's own migrator. Prisma 7's migrate commands need a schema-engine binary that this
 * project cannot download, so the SQL under prisma/migrations/<name>/migration.sql is applied
 * here, in name order, on Postgres and PGlite alike. Applied migrations are recorded with a
 * checksum; an edited, already-applied migration stops the start instead of drifting silently.
 */
export interface SqlExecutor {
  /** Runs one or more statements (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
const MIGRATIONS_TABLE = '_agentgraph_migrations';
/** Arbitrary constant: serialises concurrent migrators (two replicas starting at once). */
const MIGRATION_LOCK_KEY = 7_231_990_001;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Applies every pending migration; returns the names applied now. */
export async function migrate(
  db: SqlExecutor,
  options: { advisoryLock: boolean; dir?: string },
): Promise<string[]> {
  const migrations = await readMigrations(options.dir);
  if (options.advisoryLock) await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await db.exec(`CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
      name TEXT PRIMARY KEY,
      checksum TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const applied = new Map(
      (
        await db.query<{ name: string; checksum: string }>(
          `SELECT name, checksum FROM "${MIGRATIONS_TABLE}"`,
        )
      ).map((row) => [row.name, row.checksum]),
    );
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(
            `Migration ${migration.name} was changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      // One transaction per migration: a failing migration leaves the schema as it was.
      await db.exec(
        `BEGIN;\n${migration.sql}\n;INSERT INTO "${MIGRATIONS_TABLE}" (name, checksum) VALUES ('${migration.name}', '${migration.checksum}');\nCOMMIT;`,
      );
      appliedNow.push(migration.name);
    }
    return appliedNow;
  } catch (error) {
    await db.exec('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (options.advisoryLock) {
      await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  }
}
