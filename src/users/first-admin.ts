import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateApiToken } from '../crypto/tokens.js';
import type { UserService } from './service.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The embedded default must be usable after `npm start` with nothing configured, yet nobody can
 * call the API without a token. So on first start (no user yet, no BOOTSTRAP_ADMIN_TOKEN) it
 * creates the `admin` user and writes its token to DATA_DIR/admin-token (mode 0600). The token is
 * never logged; only the file's path is.
 */
export async function createFirstAdminToken(users: UserService, dataDir: string) {
  const token = generateApiToken();
  if (!(await users.bootstrapAdmin(token))) return null;
  await mkdir(dataDir, { recursive: true });
  const file = path.resolve(dataDir, ADMIN_TOKEN_FILE);
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return file;
}
