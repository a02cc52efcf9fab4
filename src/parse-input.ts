import { z } from 'zod';
import { badInput } from './errors.js';

/**
 * Parses a service's input with its zod schema. The first issue becomes BAD_USER_INPUT with
 * `extensions.field`: `field` when given (the whole value is one argument, e.g. a label list),
 * else the issue path's first key (an input object's field).
 */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  field?: string,
): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  throw badInput(field ?? String(issue?.path[0] ?? 'input'), issue?.message ?? 'Invalid input');
}

/**
 * A number from min to max. zod refuses NaN and ±Infinity, so the bound also keeps money
 * arithmetic finite (issue #8); every failure, a wrong type included, reads `message`.
 */
export const numberFrom = (min: number, max: number, message: string) =>
  z.number(message).min(min, message).max(max, message);

/** An integer from min to max; every failure reads `message`. */
export const integerFrom = (min: number, max: number, message: string) =>
  z.int(message).min(min, message).max(max, message);

/** A field where null, like absence, parses to `fallback` (zod's .default() only covers absence). */
export const withDefault = <Schema extends z.ZodType, Fallback>(
  schema: Schema,
  fallback: Fallback,
) => schema.nullish().transform((value): z.output<Schema> | Fallback => value ?? fallback);

/**
 * For an update's field where null, like absence, leaves the stored value as it is: both parse
 * to undefined, which Prisma skips, while a value goes through `schema`.
 */
export const nullMeansUnchanged = <Schema extends z.ZodType>(schema: Schema) =>
  z.preprocess((value) => value ?? undefined, schema.optional());
