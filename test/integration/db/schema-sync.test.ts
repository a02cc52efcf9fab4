import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, openMigratedDatabase, type MigratedDatabase } from '../../support/backend.js';

/**
 * prisma/schema.prisma and the SQL migrations must describe the same tables: the client is
 * generated from the first, the database is built from the second. This test migrates a fresh
 * database and compares every model's columns (name, type, nullability), every enum and every
 * foreign key (columns, referenced table, delete rule), every B-tree index and unique
 * constraint, and every column default.
 */
const SCHEMA = readFileSync(
  fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url)),
  'utf8',
);

const PG_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Boolean: 'boolean',
  DateTime: 'timestamp with time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};
const NATIVE_TYPES: Record<string, string> = {
  Uuid: 'uuid',
  SmallInt: 'smallint',
  Timestamptz: 'timestamp with time zone',
};

interface ExpectedColumn {
  column: string;
  type: string;
  nullable: boolean;
}

/**
 * A column default in one spelling for both sides: `now()`, `uuid()`, `autoincrement()`, a quoted
 * literal (`'PENDING'`, `'[]'`, `''`) or a bare number or boolean; null when there is none.
 * (The generated client's data model leaves defaults out and Prisma's DMMF is only inside its
 * CLI, so schema.prisma is read as text like everything else here.)
 */
type CanonicalDefault = string | null;

/** `@default(...)` of a field: a string literal, an enum value, a number, a boolean or a call. */
function prismaDefault(attributes: string, isEnum: boolean): CanonicalDefault {
  const value = /@default\(((?:"(?:[^"\\]|\\.)*"|\(\)|[^()"])*)\)/.exec(attributes)?.[1];
  if (value === undefined) return null;
  if (value.startsWith('"')) return `'${JSON.parse(value) as string}'`;
  return isEnum ? `'${value}'` : value;
}

/** information_schema.columns.column_default, as Postgres (or PGlite) prints it. */
function databaseDefault(columnDefault: string | null): CanonicalDefault {
  if (columnDefault === null) return null;
  if (/^nextval\('[\w."]+'::regclass\)$/.test(columnDefault)) return 'autoincrement()';
  if (columnDefault === 'CURRENT_TIMESTAMP' || columnDefault === 'now()') return 'now()';
  if (columnDefault === 'gen_random_uuid()') return 'uuid()';
  const cast = /^'((?:[^']|'')*)'::([\w" ]+)$/.exec(columnDefault);
  if (!cast) return columnDefault;
  const [, text, type] = cast as unknown as [string, string, string];
  // A negative number is printed quoted and cast ('-1'::integer); it is a number all the same.
  if (/^(integer|bigint|smallint|double precision|numeric|real)$/.test(type)) return text;
  return `'${text.replace(/''/g, "'")}'`;
}

function parseSchema() {
  const enums = new Map<string, string[]>();
  for (const match of SCHEMA.matchAll(/^enum (\w+) \{\n([\s\S]*?)^\}/gm)) {
    enums.set(match[1]!, match[2]!.split(/\s+/).filter(Boolean));
  }
  const models = new Map<string, ExpectedColumn[]>();
  const defaults = new Map<string, Record<string, CanonicalDefault>>();
  // Blocks end at a line holding only `}` (a default like @default("{}") has braces too).
  for (const match of SCHEMA.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const body = match[2]!;
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? match[1]!;
    const columns: ExpectedColumn[] = [];
    const columnDefaults: Record<string, CanonicalDefault> = {};
    for (const line of body.split('\n')) {
      const field = /^\s*(\w+)\s+(\w+)(\??)(\[\])?\s*(.*)$/.exec(line);
      if (!field || line.trim().startsWith('//') || line.trim().startsWith('@@')) continue;
      const [, name, type, optional, list, attributes] = field as unknown as string[];
      const native = /@db\.(\w+)/.exec(attributes!)?.[1];
      const sqlType = enums.has(type!) ? type! : native ? NATIVE_TYPES[native] : PG_TYPES[type!];
      if (!sqlType || list) continue; // a relation field, not a column
      const column = /@map\("([^"]+)"\)/.exec(attributes!)?.[1] ?? name!;
      columns.push({ column, type: sqlType, nullable: optional === '?' });
      columnDefaults[column] = prismaDefault(attributes!, enums.has(type!));
    }
    models.set(table, columns);
    defaults.set(table, columnDefaults);
  }
  return { enums, models, defaults };
}

describe(`schema.prisma and the SQL migrations agree (${backend})`, () => {
  let database: MigratedDatabase;

  beforeAll(async () => {
    database = await openMigratedDatabase();
  });
  afterAll(() => database?.dispose());

  it('has every model column with its type and nullability, and nothing else', async () => {
    const { models } = parseSchema();
    expect(models.size).toBeGreaterThan(5);
    const rows = await database.prisma.$queryRaw<
      {
        table_name: string;
        column_name: string;
        data_type: string;
        udt_name: string;
        is_nullable: string;
      }[]
    >`SELECT table_name, column_name, data_type, udt_name, is_nullable
      FROM information_schema.columns WHERE table_schema = 'public'`;
    for (const [table, expected] of models) {
      const actual = rows
        .filter((row) => row.table_name === table)
        .map((row) => ({
          column: row.column_name,
          type: row.data_type === 'USER-DEFINED' ? row.udt_name : row.data_type,
          nullable: row.is_nullable === 'YES',
        }))
        .sort((a, b) => a.column.localeCompare(b.column));
      expect({ table, columns: actual }).toEqual({
        table,
        columns: [...expected].sort((a, b) => a.column.localeCompare(b.column)),
      });
    }
  });

  it('has every column default of schema.prisma, and no default schema.prisma lacks', async () => {
    const { defaults } = parseSchema();
    const declared = [...defaults.values()].flatMap((columns) => Object.values(columns));
    // The parser must see each kind, or a broken regex would compare nulls with nulls.
    for (const kind of ['now()', 'uuid()', 'autoincrement()', "'[]'", "'PENDING'", '0', 'false']) {
      expect(declared, kind).toContain(kind);
    }
    const rows = await database.prisma.$queryRaw<
      { table_name: string; column_name: string; column_default: string | null }[]
    >`SELECT table_name, column_name, column_default
      FROM information_schema.columns WHERE table_schema = 'public'`;
    // One comparison of every table, so a failure lists every mismatch at once.
    const actual = Object.fromEntries(
      [...defaults.keys()].map((table) => [
        table,
        Object.fromEntries(
          rows
            .filter((row) => row.table_name === table)
            .map((row) => [row.column_name, databaseDefault(row.column_default)]),
        ),
      ]),
    );
    expect(actual).toEqual(Object.fromEntries(defaults));
  });

  it('has every enum with the same values', async () => {
    const { enums } = parseSchema();
    const rows = await database.prisma.$queryRaw<{ name: string; value: string }[]>`
      SELECT t.typname AS name, e.enumlabel AS value
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder`;
    for (const [name, values] of enums) {
      expect({
        name,
        values: rows.filter((row) => row.name === name).map((row) => row.value),
      }).toEqual({
        name,
        values,
      });
    }
  });

  it('has every expression index noted in schema.prisma (Prisma cannot declare those)', async () => {
    const noted = [
      ...SCHEMA.matchAll(/\/\/ expression index (\w+): (UNIQUE )?ON (\w+) \((.+)\)$/gm),
    ];
    expect(noted.length).toBeGreaterThan(0);
    const rows = await database.prisma.$queryRaw<{ indexname: string; indexdef: string }[]>`
      SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`;
    for (const [, name, unique, table, expression] of noted) {
      const index = rows.find((row) => row.indexname === name);
      expect(index, `index ${name}`).toBeDefined();
      const definition = index!.indexdef.replace(/"/g, '');
      expect(definition).toContain(`${unique ? 'UNIQUE ' : ''}INDEX ${name} ON `);
      expect(definition).toMatch(new RegExp(`ON (public\\.)?${table} `));
      expect(definition.replace(/\s+/g, '')).toContain(expression!.replace(/\s+/g, ''));
    }
  });
  it('has every foreign key of a relation field, with its referenced table and delete rule', async () => {
    const tableOf = new Map<string, string>();
    const bodies = [...SCHEMA.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)];
    for (const [, model, body] of bodies) {
      tableOf.set(model!, /@@map\("([^"]+)"\)/.exec(body!)?.[1] ?? model!);
    }
    const columnOf = (body: string, field: string) =>
      new RegExp(`^\\s*${field}\\s+\\S+.*@map\\("([^"]+)"\\)`, 'm').exec(body)?.[1] ?? field;
    const expected: string[] = [];
    for (const [, model, body] of bodies) {
      for (const relation of body!.matchAll(
        /^\s*\w+\s+(\w+)(\??)\s+@relation\((?:"\w+",\s*)?fields: \[([\w, ]+)\], references: \[([\w, ]+)\](?:, onDelete: (\w+))?/gm,
      )) {
        const [, target, optional, fields, , onDelete] = relation as unknown as string[];
        const columns = fields!.split(/,\s*/).map((field) => columnOf(body!, field));
        // Prisma's default for a required relation is Restrict, for an optional one SetNull.
        const rule = {
          Cascade: 'CASCADE',
          SetNull: 'SET NULL',
          Restrict: 'RESTRICT',
          NoAction: 'NO ACTION',
        }[onDelete ?? (optional ? 'SetNull' : 'Restrict')];
        expected.push(
          `${tableOf.get(model!)}(${columns.join(',')}) -> ${tableOf.get(target!)} ${rule}`,
        );
      }
    }
    expect(expected.length).toBeGreaterThan(5);
    const rows = await database.prisma.$queryRaw<{ key: string }[]>`
      SELECT c.conrelid::regclass::text || '(' ||
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
              FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) ||
             ') -> ' || c.confrelid::regclass::text || ' ' ||
             CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
               WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' ELSE 'SET DEFAULT' END AS key
      FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`;
    const strip = (key: string) => key.replace(/"/g, '');
    expect(rows.map((row) => strip(row.key)).sort()).toEqual(expected.sort());
  });
  it('has every index and unique constraint of schema.prisma, and no other plain one', async () => {
    const expected: string[] = [];
    for (const [, model, body] of SCHEMA.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)) {
      const table = /@@map\("([^"]+)"\)/.exec(body!)?.[1] ?? model!;
      const columnOf = (field: string) =>
        new RegExp(`^\\s*${field}\\s+\\S+.*@map\\("([^"]+)"\\)`, 'm').exec(body!)?.[1] ?? field;
      for (const [, kind, fields] of body!.matchAll(/^\s*@@(index|unique)\(\[([\w, :()]+)\]/gm)) {
        const columns = fields!
          .split(/,\s*(?![^(]*\))/)
          .map((field) => columnOf(field.replace(/\(.*\)$/, '')));
        expected.push(`${table}(${columns.join(',')})${kind === 'unique' ? ' UNIQUE' : ''}`);
      }
      for (const [, field] of body!.matchAll(/^\s*(\w+)\s+\w+\??\s+.*@unique/gm)) {
        expected.push(`${table}(${columnOf(field!)}) UNIQUE`);
      }
    }
    // Plain B-tree indexes only: primary keys, expression and partial indexes (noted in
    // schema.prisma, checked above) and the GIN index on chats.labels are the migrations' own.
    const rows = await database.prisma.$queryRaw<{ key: string }[]>`
      SELECT t.relname || '(' ||
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
              FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) || ')' ||
             CASE WHEN i.indisunique THEN ' UNIQUE' ELSE '' END AS key
      FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
      WHERE n.nspname = 'public' AND NOT i.indisprimary AND i.indexprs IS NULL
        AND i.indpred IS NULL AND am.amname = 'btree' AND t.relname <> '_agentgraph_migrations'`;
    expect(rows.map((row) => row.key).sort()).toEqual(expected.sort());
  });
});
