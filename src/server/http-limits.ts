import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request body limit (issue #8, row 4), applied before Yoga reads anything: a declared
 * Content-Length above `maxBytes` is answered 413, a body without a declared length (chunked) is
 * answered 411, and in both cases the connection is closed without reading the body. Yoga itself
 * would buffer any body whole before parsing it. Returns true when it answered.
 */
export function refuseUnboundedBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return false;
  const declared = req.headers['content-length'];
  if (declared === undefined) {
    if (req.headers['transfer-encoding'] === undefined) return false; // no body at all
    return answer(res, 411, 'LENGTH_REQUIRED', 'A request body needs a Content-Length header');
  }
  if (Number(declared) <= maxBytes) return false;
  return answer(
    res,
    413,
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than ${maxBytes} bytes (HTTP_MAX_BODY_BYTES)`,
  );
}

function answer(res: ServerResponse, status: number, code: string, message: string): true {
  // `connection: close`: Node then closes the socket after the answer instead of reading (and
  // discarding) the rest of the body to reuse the connection.
  res
    .writeHead(status, { 'content-type': 'application/json', connection: 'close' })
    .end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
  return true;
}
