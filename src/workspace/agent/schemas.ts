import { z } from 'zod';

import { MAX_WAIT_MS } from './processes.js';
import { PROCESS_SIGNALS } from './protocol.js';

/**
 * Request bodies as the agent accepts them, and (protocol.ts) the request types its client sends.
 * Objects are strict so a misspelt option (say `run_in_background`) is a 400 instead of being
 * silently ignored. Paths are relative to the workspace root, or absolute inside it.
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
  /** 1-based number of the first line to return. Default 1. */
  offset: z.number().int().positive().optional(),
  /** Most lines to return. Default: to the end of the file. */
  limit: z.number().int().positive().optional(),
});

export const writeFileSchema = z.strictObject({
  path: workspacePath,
  content: z.string(),
  /** How `content` is encoded: utf8 (default) or base64, for binary files (attachments). */
  encoding: z.enum(['utf8', 'base64']).optional(),
  /** false: an existing file is left alone and the request is a CONFLICT. Default true. */
  overwrite: z.boolean().optional(),
});

export const editFilesSchema = z.strictObject({
  /** Applied all or nothing; edits of one file apply in order, each to the previous result. */
  files: z
    .array(
      z.strictObject({
        path: workspacePath,
        edits: z
          .array(
            z.strictObject({
              /** Exact text to find (not a pattern). */
              search: z.string().min(1, 'search must not be empty'),
              replace: z.string(),
              /** Replace every occurrence; otherwise `search` must occur exactly once. */
              replaceAll: z.boolean().optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

export const listDirectorySchema = z.strictObject({
  /** Default '.', the workspace root. */
  path: workspacePath.default('.'),
});

export const startProcessSchema = z.strictObject({
  /** Run with `/bin/sh -c`. */
  command: z.string().min(1, 'command must not be empty'),
  /** Directory inside the workspace. Default: the root. */
  workdir: workspacePath.optional(),
  /** Added to the agent's allow-listed environment (and may override it). */
  env: envSchema.optional(),
  /** Return at once with the id instead of waiting. */
  background: z.boolean().optional(),
  /** Foreground only: how long to wait for the exit before answering `running: true`. */
  timeoutMs: waitMs.optional(),
  /**
   * Hard limit: after this long the whole process group gets SIGTERM, then SIGKILL. Default: none;
   * a foreground timeout alone never stops the process.
   */
  killAfterMs: z.number().int().positive().optional(),
});

export const signalProcessSchema = z.strictObject({ signal: z.enum(PROCESS_SIGNALS) });

/** `?waitMs=` of the output route, a query string value. */
export const waitMsQuerySchema = z.coerce.number().pipe(waitMs);
