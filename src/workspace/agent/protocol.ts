import type { z } from 'zod';

import type {
  editFilesSchema,
  listDirectorySchema,
  readFileSchema,
  signalProcessSchema,
  startProcessSchema,
  writeFileSchema,
} from './schemas.js';

/**
 * The workspace agent's HTTP API (prefix API_PREFIX), shared by the agent and its client so the two
 * cannot drift. Every route but health needs `Authorization: Bearer <token>`; bodies are JSON.
 * Request types are what the client sends, derived from the zod schemas the agent parses them
 * with (schemas.ts, where their fields are documented); responses are declared here.
 */

export const API_PREFIX = '/api/v0';

export type AgentErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'PATH_OUTSIDE_WORKSPACE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'EDIT_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_PROCESSES'
  | 'INTERNAL';

/** HTTP status each error code is sent with. */
export const AGENT_ERROR_STATUS: Record<AgentErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  PATH_OUTSIDE_WORKSPACE: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  EDIT_NOT_FOUND: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_PROCESSES: 429,
  INTERNAL: 500,
};

/** Where an edit failed: which entry of `files` and which of its `edits` (both 0-based). */
export interface EditFailureDetails {
  path: string;
  fileIndex: number;
  editIndex: number;
  /** How often `search` occurs in the file at that point (0, or more than 1 without replaceAll). */
  occurrences: number;
}

export interface AgentErrorBody {
  error: { code: AgentErrorCode; message: string; details?: EditFailureDetails };
}

export interface HealthResponse {
  status: 'ok';
}

// Files. Paths are relative to the workspace root, or absolute inside it.

export type ReadFileRequest = z.input<typeof readFileSchema>;

export interface ReadFileResponse {
  path: string;
  content: string;
  /** Lines in the whole file (a final newline does not start another line). */
  totalLines: number;
  startLine: number;
  /** Last line (partly) returned; startLine - 1 when nothing was. */
  endLine: number;
  /** The byte cap cut the requested range short; the last returned line may be partial. */
  truncated: boolean;
}

export type WriteFileRequest = z.input<typeof writeFileSchema>;

export interface WriteFileResponse {
  path: string;
  /** UTF-8 bytes written. */
  bytes: number;
}

export type EditFilesRequest = z.input<typeof editFilesSchema>;
export type FileEdit = EditFilesRequest['files'][number]['edits'][number];

export interface EditFilesResponse {
  files: Array<{ path: string; replacements: number }>;
}

export type ListDirectoryRequest = z.input<typeof listDirectorySchema>;

export type DirectoryEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface DirectoryEntry {
  name: string;
  /** A symlink is reported as such, not followed. */
  type: DirectoryEntryType;
  size: number;
}

export interface ListDirectoryResponse {
  entries: DirectoryEntry[];
}

// Processes.

export const PROCESS_SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP'] as const;
export type ProcessSignal = (typeof PROCESS_SIGNALS)[number];

export type StartProcessRequest = z.input<typeof startProcessSchema>;

export interface ProcessOutputResponse {
  id: string;
  running: boolean;
  /** null while running, or when the process was ended by a signal. */
  exitCode: number | null;
  signal: string | null;
  /** Combined stdout+stderr, head and tail (see head-tail-buffer.ts). */
  output: string;
  truncated: boolean;
  wallDurationMs: number;
}

export interface StartProcessBackgroundResponse {
  id: string;
  running: true;
}

export type StartProcessResponse =
  | StartProcessBackgroundResponse
  | (ProcessOutputResponse & { running: false })
  | (ProcessOutputResponse & { running: true; note: string });

export interface ProcessInfo {
  id: string;
  command: string;
  /** Absolute real path the process started in. */
  workdir: string;
  running: boolean;
  exitCode: number | null;
  signal: string | null;
  /** ISO 8601. */
  startedAt: string;
  endedAt: string | null;
}

export interface ListProcessesResponse {
  processes: ProcessInfo[];
}

export type SignalProcessRequest = z.input<typeof signalProcessSchema>;

export interface SignalProcessResponse {
  id: string;
  signal: ProcessSignal;
  /** False when no process of its group was left to receive it. */
  delivered: boolean;
}
