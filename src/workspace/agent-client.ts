import {
  API_PREFIX,
  type AgentErrorBody,
  type AgentErrorCode,
  type EditFailureDetails,
  type EditFilesRequest,
  type EditFilesResponse,
  type HealthResponse,
  type ListDirectoryRequest,
  type ListDirectoryResponse,
  type ListProcessesResponse,
  type ProcessOutputResponse,
  type ProcessSignal,
  type ReadFileRequest,
  type ReadFileResponse,
  type SignalProcessResponse,
  type StartProcessRequest,
  type StartProcessResponse,
  type WriteFileRequest,
  type WriteFileResponse,
} from './agent/protocol.js';
import type {
  CreateCheckpointResponse,
  GitChangesRequest,
  GitChangesResponse,
  RestoreCheckpointRequest,
  RestoreCheckpointResponse,
} from './agent/git-protocol.js';

export type * from './agent/git-protocol.js';
export type {
  AgentErrorCode,
  DirectoryEntry,
  DirectoryEntryType,
  EditFailureDetails,
  EditFilesRequest,
  EditFilesResponse,
  FileEdit,
  HealthResponse,
  ListDirectoryRequest,
  ListDirectoryResponse,
  ListProcessesResponse,
  ProcessInfo,
  ProcessOutputResponse,
  ProcessSignal,
  ReadFileRequest,
  ReadFileResponse,
  SignalProcessRequest,
  SignalProcessResponse,
  StartProcessBackgroundResponse,
  StartProcessRequest,
  StartProcessResponse,
  WriteFileRequest,
  WriteFileResponse,
} from './agent/protocol.js';
export { PROCESS_SIGNALS } from './agent/protocol.js';

/** Code of a WorkspaceAgentError raised when the agent could not be reached or answered garbage. */
export type WorkspaceAgentClientErrorCode = 'AGENT_UNREACHABLE' | 'BAD_RESPONSE';

/**
 * A failed call. `code` and `status` are the agent's (e.g. PATH_OUTSIDE_WORKSPACE / 403); or
 * AGENT_UNREACHABLE with status 0 when the agent could not be reached, or BAD_RESPONSE with the
 * HTTP status when the answer was not the agent's JSON. Tools can show `message` to the model as
 * it is: it names the path or edit at fault and holds no secrets.
 */
export class WorkspaceAgentError extends Error {
  override name = 'WorkspaceAgentError';

  constructor(
    readonly code: AgentErrorCode | WorkspaceAgentClientErrorCode,
    readonly status: number,
    message: string,
    /** For EDIT_NOT_FOUND / CONFLICT from editFiles: which file and edit failed. */
    readonly details?: EditFailureDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WorkspaceAgentClientOptions {
  /** Base URL of the agent, e.g. the `url` startWorkspaceAgent returns. */
  url: string;
  token: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

/** Per call: abort it (the process it started, if any, keeps running on the agent). */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Typed HTTP client of one workspace agent, local or remote alike. Every method throws
 * WorkspaceAgentError on failure; none retries, since starting a process twice is not harmless.
 */
export class WorkspaceAgentClient {
  private readonly base: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: WorkspaceAgentClientOptions) {
    this.base = options.url.replace(/\/+$/, '') + API_PREFIX;
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
  }

  health(options?: CallOptions): Promise<HealthResponse> {
    return this.call('GET', '/health', undefined, options);
  }

  readFile(request: ReadFileRequest, options?: CallOptions): Promise<ReadFileResponse> {
    return this.call('POST', '/files/read', request, options);
  }

  writeFile(request: WriteFileRequest, options?: CallOptions): Promise<WriteFileResponse> {
    return this.call('POST', '/files/write', request, options);
  }

  /** All or nothing: on any failing edit no file is changed. */
  editFiles(request: EditFilesRequest, options?: CallOptions): Promise<EditFilesResponse> {
    return this.call('POST', '/files/edit', request, options);
  }

  listDirectory(
    request: ListDirectoryRequest,
    options?: CallOptions,
  ): Promise<ListDirectoryResponse> {
    return this.call('POST', '/files/list', request, options);
  }

  startProcess(request: StartProcessRequest, options?: CallOptions): Promise<StartProcessResponse> {
    return this.call('POST', '/processes/start', request, options);
  }

  listProcesses(options?: CallOptions): Promise<ListProcessesResponse> {
    return this.call('GET', '/processes', undefined, options);
  }

  /** With `waitMs`, the agent first waits up to that long for the process to exit. */
  processOutput(
    id: string,
    query: { waitMs?: number } = {},
    options?: CallOptions,
  ): Promise<ProcessOutputResponse> {
    const wait = query.waitMs === undefined ? '' : `?waitMs=${query.waitMs}`;
    return this.call(
      'GET',
      `/processes/${encodeURIComponent(id)}/output${wait}`,
      undefined,
      options,
    );
  }

  /** Signals the process's whole group (children it started included). */
  signalProcess(
    id: string,
    signal: ProcessSignal,
    options?: CallOptions,
  ): Promise<SignalProcessResponse> {
    return this.call('POST', `/processes/${encodeURIComponent(id)}/signal`, { signal }, options);
  }

  /** The workspace's git changes (issue #11): the root's repository and those of `paths`. */
  gitChanges(request: GitChangesRequest, options?: CallOptions): Promise<GitChangesResponse> {
    return this.call('POST', '/git/changes', request, options);
  }

  /** Records the workspace's files in the agent's own checkpoint repository. */
  createCheckpoint(options?: CallOptions): Promise<CreateCheckpointResponse> {
    return this.call('POST', '/checkpoints/create', {}, options);
  }

  /** Puts the workspace's files back as they were at a checkpoint. */
  restoreCheckpoint(
    request: RestoreCheckpointRequest,
    options?: CallOptions,
  ): Promise<RestoreCheckpointResponse> {
    return this.call('POST', '/checkpoints/restore', request, options);
  }

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: CallOptions | undefined,
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options?.signal,
      });
    } catch (error) {
      if (options?.signal?.aborted) throw error; // the caller's own abort, not the agent's fault
      const reason = error instanceof Error ? error.message : String(error);
      throw new WorkspaceAgentError(
        'AGENT_UNREACHABLE',
        0,
        `Workspace agent unreachable: ${reason}`,
        undefined,
        { cause: error },
      );
    }

    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return parsed as T;
    if (isErrorBody(parsed)) {
      const { code, message, details } = parsed.error;
      throw new WorkspaceAgentError(code, response.status, message, details);
    }
    throw new WorkspaceAgentError(
      'BAD_RESPONSE',
      response.status,
      `Workspace agent answered ${response.status} with an unexpected body`,
    );
  }
}

function isErrorBody(value: unknown): value is AgentErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const { error } = value;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  );
}
