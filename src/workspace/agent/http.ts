import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { z } from 'zod';

import { AgentRequestError, badRequest } from './errors.js';
import type { AgentErrorBody } from './protocol.js';

/** Largest request body accepted (a write_file of a big file fits; a runaway client does not). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/**
 * An oversized body is read to its end and thrown away so the client gets its 413 instead of a
 * reset connection, but only up to this; past it the connection is cut.
 */
const MAX_DISCARDED_BODY_BYTES = 8 * MAX_BODY_BYTES;

/**
 * True when the request carries `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export function isAuthorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  const given = match?.[1] ?? '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) && match !== null;
}

/** Reads and parses a JSON body, then validates it; BAD_REQUEST or PAYLOAD_TOO_LARGE on failure. */
export async function readJson<T extends z.ZodType>(
  request: IncomingMessage,
  schema: T,
): Promise<z.output<T>> {
  const declared = Number(request.headers['content-length']);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > MAX_DISCARDED_BODY_BYTES) {
      request.destroy();
      break;
    }
    if (received <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (received > MAX_BODY_BYTES || declared > MAX_BODY_BYTES) {
    throw new AgentRequestError(
      'PAYLOAD_TOO_LARGE',
      `Request body is larger than ${MAX_BODY_BYTES} bytes`,
    );
  }

  let body: unknown;
  try {
    body = received === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    });
    throw badRequest(`Invalid request: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  response.end(payload);
}

export function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof AgentRequestError) {
    const body: AgentErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details) body.error.details = error.details;
    if (error.code === 'UNAUTHENTICATED') response.setHeader('www-authenticate', 'Bearer');
    sendJson(response, error.status, body);
    return;
  }
  // A bug: log it here, tell the client nothing about it.
  console.error('agentgraph-agent: unexpected error', error);
  const body: AgentErrorBody = { error: { code: 'INTERNAL', message: 'Internal error' } };
  sendJson(response, 500, body);
}
