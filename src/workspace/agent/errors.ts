import { AGENT_ERROR_STATUS, type AgentErrorCode, type EditFailureDetails } from './protocol.js';

/**
 * An expected failure of a request. The HTTP layer sends it as `{ error: { code, message } }` with
 * the code's status; anything else thrown is a bug and goes out as INTERNAL without its message.
 */
export class AgentRequestError extends Error {
  override name = 'AgentRequestError';
  readonly status: number;

  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly details?: EditFailureDetails,
  ) {
    super(message);
    this.status = AGENT_ERROR_STATUS[code];
  }
}

export const badRequest = (message: string) => new AgentRequestError('BAD_REQUEST', message);
export const notFound = (message: string) => new AgentRequestError('NOT_FOUND', message);

/** The Node error code (ENOENT, EISDIR, …) of a failed fs or child_process call, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string')
    return error.code;
  return undefined;
}

/**
 * Turns the fs errors a caller can cause (missing file, a directory where a file was expected, …)
 * into request errors naming the path; other errors are rethrown as bugs.
 */
export function fsRequestError(error: unknown, displayPath: string): never {
  switch (errnoCode(error)) {
    case 'ENOENT':
      throw notFound(`No such file or directory: ${displayPath}`);
    case 'EISDIR':
      throw badRequest(`Is a directory: ${displayPath}`);
    case 'ENOTDIR':
      throw badRequest(`Not a directory: ${displayPath}`);
    case 'EACCES':
    case 'EPERM':
      throw badRequest(`Permission denied: ${displayPath}`);
    case 'ELOOP':
      throw badRequest(`Too many levels of symbolic links: ${displayPath}`);
    case 'ENAMETOOLONG':
      throw badRequest(`File name too long: ${displayPath}`);
    default:
      throw error;
  }
}
