import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import { requireViewer } from '../server/auth.js';
import type { UserService } from '../users/service.js';
import { FILES_PATH, type FileService } from './service.js';

/** Room for the multipart envelope (boundaries, the operations and map fields) around a file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * The largest body a request may declare: HTTP_MAX_BODY_BYTES, except a multipart upload, which
 * may carry one file of FILE_MAX_BYTES.
 */
export function maxBodyBytes(req: IncomingMessage, config: Config): number {
  const contentType = req.headers['content-type']?.toLowerCase() ?? '';
  return contentType.startsWith('multipart/form-data')
    ? Math.max(config.HTTP_MAX_BODY_BYTES, config.FILE_MAX_BYTES + MULTIPART_OVERHEAD_BYTES)
    : config.HTTP_MAX_BODY_BYTES;
}

export function isFileRequest(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.url ?? '').startsWith(FILES_PATH);
}

function answer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(message);
}

/**
 * GET /files/<id> with the owner's bearer token: the bytes, with the sniffed media type. Another
 * user's file is 404 like a missing one; no token is 401. The browser must not render the file in
 * this origin: it is sent as an attachment with nosniff.
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  services: { users: UserService; files: FileService },
): Promise<void> {
  let viewerId: string;
  try {
    viewerId = (await requireViewer(services.users, req.headers.authorization)).id;
  } catch {
    return answer(res, 401, 'A valid bearer token is required');
  }
  const id = fileIdFromUrl(req.url ?? '');
  const file = id === null ? null : await services.files.download(viewerId, id);
  if (!file) return answer(res, 404, 'File not found');
  res
    .writeHead(200, {
      'content-type': file.mediaType,
      'content-length': file.data.length,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    })
    .end(Buffer.from(file.data));
}

/** The id in /files/<id>; null when its percent-encoding is malformed (a 404, not a 500). */
function fileIdFromUrl(url: string): string | null {
  try {
    return decodeURIComponent(url.slice(FILES_PATH.length).split('?')[0] ?? '');
  } catch {
    return null;
  }
}
