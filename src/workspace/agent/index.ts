export {
  DEFAULT_AGENT_HOST,
  startWorkspaceAgent,
  type WorkspaceAgent,
  type WorkspaceAgentOptions,
} from './server.js';
export {
  HeadTailBuffer,
  LINE_TRUNCATED_MARKER,
  MAX_HEAD_BYTES,
  MAX_LINE_BYTES,
  MAX_TAIL_BYTES,
  omissionMarker,
  type HeadTailSnapshot,
} from './head-tail-buffer.js';
export { MAX_READ_BYTES } from './files.js';
export { MAX_BODY_BYTES } from './http.js';
export {
  DEFAULT_FOREGROUND_TIMEOUT_MS,
  DEFAULT_MAX_PROCESSES,
  MAX_WAIT_MS,
  PROCESS_HISTORY_LIMIT,
} from './processes.js';
export { FALLBACK_PATH, NON_INTERACTIVE_ENV } from './environment.js';
export * from './protocol.js';
