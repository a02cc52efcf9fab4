import { createHash, timingSafeEqual } from 'node:crypto';

import type { Context } from 'hono';
import { validator } from 'hono/validator';
import type { z } from 'zod';

import { badRequest } from './errors.js';

/**
 * Largest request body accepted (a write_file of a big file fits; a runaway client does not). 16 MB:
 * an attachment of the default 10 MB limit, base64-encoded (attach_to_workspace), fits.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * True when the header is `Bearer <token>`. Both sides are hashed first so the comparison takes
 * the same time whatever the length or content of the guess.
 */
export function isAuthorized(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  const given = match?.[1] ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && match !== null;
}

/**
 * Validates a route's JSON body with a zod schema (`c.req.valid('json')` is then typed). A body
 * without a JSON content type is read as JSON all the same, as the agent always has, and an empty
 * one as `{}`; anything invalid is BAD_REQUEST naming each issue's field.
 */
export function jsonBody<Schema extends z.ZodType>(schema: Schema) {
  return validator('json', async (value, c): Promise<z.output<Schema>> => {
    const body: unknown = JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')
      ? value
      : await readJsonText(c);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => {
        const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
        return `${where}: ${issue.message}`;
      });
      throw badRequest(`Invalid request: ${issues.join('; ')}`);
    }
    return parsed.data;
  });
}

async function readJsonText(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
}
