import { createHash, randomBytes } from 'node:crypto';

/** API tokens: random secrets shown once; only their SHA-256 is stored. */
const TOKEN_PREFIX = 'agt_';
const TOKEN_BYTES = 32;

export function generateApiToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
