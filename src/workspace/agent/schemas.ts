import { z } from 'zod';

import { MAX_WAIT_MS } from './processes.js';
import { PROCESS_SIGNALS } from './protocol.js';

/**
 * Request bodies as the agent accepts them. Objects are strict so a misspelt option (say
 * `run_in_background`) is a 400 instead of being silently ignored.
 */

const workspacePath = z.string();
const waitMs = z.number().int().min(0).max(MAX_WAIT_MS);
// '=' would split the variable and NUL cannot be passed to execve at all.
const envName = z
  .string()
  .regex(/^[^=\0]+$/, 'environment variable names must not contain = or NUL');
const envValue = z.string().regex(/^[^\0]*$/, 'environment values must not contain NUL');

export const envSchema = z.record(envName, envValue);

export const readFileSchema = z.strictObject({
  path: workspacePath,
  offset: z.number().int().positive().optional(),
  limit: z.number().int().positive().optional(),
});

export const writeFileSchema = z.strictObject({ path: workspacePath, content: z.string() });

export const editFilesSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        path: workspacePath,
        edits: z
          .array(
            z.strictObject({
              search: z.string().min(1, 'search must not be empty'),
              replace: z.string(),
              replaceAll: z.boolean().optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

export const listDirectorySchema = z.strictObject({ path: workspacePath.default('.') });

export const startProcessSchema = z.strictObject({
  command: z.string().min(1, 'command must not be empty'),
  workdir: workspacePath.optional(),
  env: envSchema.optional(),
  background: z.boolean().optional(),
  timeoutMs: waitMs.optional(),
  killAfterMs: z.number().int().positive().optional(),
});

export const signalProcessSchema = z.strictObject({ signal: z.enum(PROCESS_SIGNALS) });

/** `?waitMs=` of the output route, a query string value. */
export const waitMsQuerySchema = z.coerce.number().pipe(waitMs);
