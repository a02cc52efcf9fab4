import type { z } from 'zod';
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
