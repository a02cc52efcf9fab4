import { unauthenticated } from '../errors.js';
import type { Viewer } from '../deps.js';
import type { UserService } from '../users/service.js';

const BEARER = /^Bearer\s+(.+)$/i;

export function bearerToken(header: string | null | undefined): string | null {
  const match = header ? BEARER.exec(header.trim()) : null;
  return match?.[1]?.trim() ?? null;
}

/** Resolves the Authorization value (HTTP header or WS connectionParams) or throws UNAUTHENTICATED. */
export async function requireViewer(users: UserService, authorization: unknown): Promise<Viewer> {
  const token = typeof authorization === 'string' ? bearerToken(authorization) : null;
  const viewer = await users.authenticate(token);
  if (!viewer) throw unauthenticated();
  return viewer;
}
