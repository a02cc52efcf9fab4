import { badInput } from '../errors.js';

/**
 * Input checks for MCP server configs (issue #12). Each throws BAD_USER_INPUT naming the one field
 * at fault, so a refused mutation never reaches the database.
 */

/**
 * Lowercase letters, digits and single hyphens, starting with a letter. No underscore: tool names
 * are `<name>__<tool>`, so the first `__` always ends the server's part. 30 characters leave 32 of
 * the 64 that model APIs allow in a tool name for the server's own tool name.
 */
export const SERVER_NAME_PATTERN = /^[a-z](?:-?[a-z0-9])*$/;
export const SERVER_NAME_MAX = 30;
export const DISPLAY_NAME_MAX = 100;
export const URL_MAX = 2048;
export const SECRET_MAX = 4096;
export const HEADERS_MAX = 20;
export const HEADER_NAME_MAX = 100;
export const TOOL_LIST_MAX = 200;
export const TOOL_NAME_MAX = 128;

/** RFC 9110 token characters. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Visible characters, spaces and tabs: no CR/LF (header injection) and no other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;
/**
 * Headers the transport sets itself: an admin overriding them would break the protocol (session,
 * content negotiation) rather than authenticate.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'accept',
  'connection',
  'transfer-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
]);

export function serverName(value: string): string {
  const name = value.trim();
  if (name.length > SERVER_NAME_MAX || !SERVER_NAME_PATTERN.test(name)) {
    throw badInput(
      'name',
      `name must be 1-${SERVER_NAME_MAX} lowercase letters, digits and single hyphens, starting with a letter`,
    );
  }
  return name;
}

export function displayName(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > DISPLAY_NAME_MAX) {
    throw badInput('displayName', `displayName must be 1-${DISPLAY_NAME_MAX} characters`);
  }
  return trimmed;
}

/**
 * An http(s) URL without credentials in it: the URL is shown to admins and named in warnings, so
 * a secret belongs in the API key or a header, where it is encrypted and never returned.
 */
export function serverUrl(value: string): string {
  const trimmed = value.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badInput('url', 'url must be an http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || trimmed.length > URL_MAX) {
    throw badInput('url', 'url must be an http(s) URL');
  }
  if (url.username || url.password) {
    throw badInput('url', 'url must not hold credentials; use the API key or custom headers');
  }
  return trimmed;
}

export function apiKeyHeader(value: string | null | undefined): string {
  const name = value?.trim() || 'Authorization';
  checkHeaderName('apiKeyHeader', name);
  return name;
}

export function secretValue(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > SECRET_MAX || !HEADER_VALUE.test(trimmed)) {
    throw badInput(
      field,
      `${field} must be 1-${SECRET_MAX} characters without line breaks or control characters`,
    );
  }
  return trimmed;
}

export function customHeaders(
  headers: readonly { name: string; value: string }[],
): Record<string, string> {
  if (headers.length === 0 || headers.length > HEADERS_MAX) {
    throw badInput('customHeaders', `customHeaders must hold 1-${HEADERS_MAX} headers`);
  }
  const result: Record<string, string> = {};
  const seen = new Set<string>();
  for (const header of headers) {
    const name = header.name.trim();
    checkHeaderName('customHeaders', name);
    if (seen.has(name.toLowerCase())) {
      throw badInput('customHeaders', `customHeaders names ${name} twice`);
    }
    seen.add(name.toLowerCase());
    result[name] = secretValue('customHeaders', header.value);
  }
  return result;
}

function checkHeaderName(field: string, name: string) {
  if (name.length === 0 || name.length > HEADER_NAME_MAX || !HEADER_NAME.test(name)) {
    throw badInput(field, `${field}: "${name.slice(0, HEADER_NAME_MAX)}" is not a header name`);
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw badInput(field, `${field}: ${name} is set by the MCP transport itself`);
  }
}

/** A list of the server's own tool names (allow or deny list), deduplicated, in input order. */
export function toolNameList(field: string, names: readonly string[]): string[] {
  if (names.length > TOOL_LIST_MAX) {
    throw badInput(field, `${field} may hold at most ${TOOL_LIST_MAX} tool names`);
  }
  const result: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    if (name.length === 0 || name.length > TOOL_NAME_MAX || /[\x00-\x1f\x7f]/.test(name)) {
      throw badInput(field, `${field}: each tool name must be 1-${TOOL_NAME_MAX} characters`);
    }
    if (!result.includes(name)) result.push(name);
  }
  return result;
}

/** Reads a stored allow/deny list (jsonb); anything else than an array of strings is empty. */
export function storedToolList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}
