import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/**
 * SQL straight to the driver, for the daemon's hot path (issue #9). Prisma's `$queryRaw` runs
 * its query interpreter even for raw SQL: about 18 % of a busy replica's CPU in the profile. This
 * sends the statement to the same pg.Pool or PGlite instance the Prisma client uses, so the
 * statement counter counts it and, on PGlite, the instance's own transaction mutex keeps it out
 * of Prisma's interactive transactions (PGlite's `query` waits for a running `transaction`).
 */
export interface Sql {
  /**
   * Runs one statement and returns its rows: each `${value}` is a parameter (`$n`), and a
   * `Prisma.sql` fragment is spliced in with its own parameters. Rows decode the same on both
   * backends (see decodeColumn): int8 is a bigint, timestamps are Dates, json and jsonb are
   * parsed, enums and uuids are strings. The row type is the caller's word, as with $queryRaw.
   */
  query<Row>(strings: TemplateStringsArray, ...values: SqlValue[]): Promise<Row[]>;
}

/** What a statement takes as a parameter: json goes as a string with a `::jsonb` cast. */
export type SqlValue = string | number | bigint | boolean | Date | null | SqlArray | Prisma.Sql;
type SqlArray = readonly (string | number | bigint | boolean | Date | null)[];

export function pgSql(pool: pg.Pool): Sql {
  const types = { getTypeParser: (oid: number) => decodeColumn(oid) };
  return {
    async query<Row>(strings: TemplateStringsArray, ...values: SqlValue[]) {
      const statement = new Prisma.Sql(strings, values);
      const result = await pool.query({
        text: statement.text,
        values: statement.values.map(encodeParameter),
        types,
      } as pg.QueryConfig);
      return result.rows as Row[];
    },
  };
}

export function pgliteSql(db: PGlite): Sql {
  let parsers: Record<number, TextParser> | undefined;
  return {
    async query<Row>(strings: TemplateStringsArray, ...values: SqlValue[]) {
      // Every type PGlite parses itself is overridden, so nothing decodes differently from pg.
      parsers ??= Object.fromEntries(
        [...Object.keys(db.parsers), ...Object.keys(OVERRIDES)]
          .map(Number)
          .filter((oid) => Number.isInteger(oid))
          .map((oid) => [oid, decodeColumn(oid)]),
      );
      const statement = new Prisma.Sql(strings, values);
      const result = await db.query<Row>(statement.text, statement.values.map(encodeParameter), {
        parsers,
      });
      return result.rows;
    },
  };
}

const INT8 = 20;
const INT8_ARRAY = 1016;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

const TEXT_ARRAY = 1009;

type TextParser = (text: string) => unknown;
const pgTextParser = pg.types.getTypeParser as (oid: number, format: 'text') => TextParser;
const parseTimestamptz = pgTextParser(TIMESTAMPTZ, 'text');
const parseTextArray = pgTextParser(TEXT_ARRAY, 'text') as (text: string) => (string | null)[];

/** Where node-postgres' own parsers would decode differently from Prisma. */
const OVERRIDES: Record<number, TextParser> = {
  // node-postgres leaves int8 a string (PGlite: a number, or a bigint past 2^53); Prisma: bigint.
  [INT8]: (text) => BigInt(text),
  [INT8_ARRAY]: (text) => parseTextArray(text).map((item) => (item === null ? null : BigInt(item))),
  // A timestamp without time zone is UTC, as Prisma reads it (node-postgres: local time).
  [TIMESTAMP]: (text) => parseTimestamptz(`${text}+00`),
};

/**
 * One decoder per column type, shared by both backends: node-postgres' text parsers (pg-types:
 * bool, int2/int4, float4/float8, json/jsonb, timestamptz, date, arrays of those) except the
 * OVERRIDES; a type neither knows (uuid, numeric, enums, text) stays the string Postgres sent.
 */
function decodeColumn(oid: number): TextParser {
  return OVERRIDES[oid] ?? pgTextParser(oid, 'text');
}

/**
 * Parameters go as text, the same on both backends (each driver would otherwise format Dates and
 * arrays its own way); Postgres reads them as the type the statement gives them.
 */
function encodeParameter(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return `{${value.map(encodeArrayItem).join(',')}}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  throw new TypeError(`unsupported SQL parameter: ${typeof value}`);
}

function encodeArrayItem(item: unknown): string {
  const text = encodeParameter(item);
  return text === null ? 'NULL' : `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}
