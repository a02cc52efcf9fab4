import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import {
  migrate,
  MIGRATIONS_DIR,
  MigrationError,
  type SqlExecutor,
} from '../../../src/db/migrator.js';

const executor = (db: PGlite): SqlExecutor => ({
  exec: async (sql) => {
    await db.exec(sql);
  },
  query: async <Row>(sql: string, params?: unknown[]) => (await db.query<Row>(sql, params)).rows,
});

describe('migrator', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setup() {
    const db = await PGlite.create('memory://');
    const dir = await mkdtemp(path.join(tmpdir(), 'agentgraph-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    cleanups.push(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { db, dir };
  }

  it('applies every migration once, and nothing on a second run', async () => {
    const { db, dir } = await setup();
    const first = await migrate(executor(db), { advisoryLock: false, dir });
    expect(first.length).toBeGreaterThan(0);
    expect(await migrate(executor(db), { advisoryLock: false, dir })).toEqual([]);
  });

  it('refuses to start when an applied migration was edited', async () => {
    const { db, dir } = await setup();
    await migrate(executor(db), { advisoryLock: false, dir });
    const [first] = await readdir(dir);
    await writeFile(path.join(dir, first!, 'migration.sql'), '-- edited\nSELECT 1;');
    await expect(migrate(executor(db), { advisoryLock: false, dir })).rejects.toBeInstanceOf(
      MigrationError,
    );
  });

  it('rolls back a failing migration entirely', async () => {
    const { db, dir } = await setup();
    await migrate(executor(db), { advisoryLock: false, dir });
    const broken = path.join(dir, '9999_broken');
    await mkdir(broken);
    await writeFile(
      path.join(broken, 'migration.sql'),
      'CREATE TABLE half_done (id int); SELECT * FROM no_such_table;',
    );
    await expect(migrate(executor(db), { advisoryLock: false, dir })).rejects.toThrow();
    const tables = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'",
    );
    expect(tables.rows[0]?.n).toBe(0);
  });
});
