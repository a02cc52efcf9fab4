/**
 * HTTP status codes by name, for the provider clients (src/llm) and the fake LLM that plays the
 * providers in tests: one list instead of a block of constants in each file.
 */
export const HttpStatus = {
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_EARLY: 425,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  /** Anthropic's "overloaded". */
  OVERLOADED: 529,
} as const;

/** 4xx and 5xx. */
export const isErrorStatus = (status: number) => status >= HttpStatus.BAD_REQUEST;
/** 5xx. */
export const isServerErrorStatus = (status: number) => status >= HttpStatus.INTERNAL_SERVER_ERROR;
