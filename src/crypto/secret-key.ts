import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SECRET_FILE = 'secret.key';

/**
 * The embedded default needs no setup, so a missing SECRET_KEY is generated once and kept under
 * DATA_DIR (mode 0600). Postgres deployments must set SECRET_KEY (config.ts enforces it): replicas
 * have no shared disk to agree on a generated one.
 */
export async function resolveSecretKey(configured: string | undefined, dataDir: string) {
  if (configured) return configured;
  const file = path.join(dataDir, SECRET_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const generated = randomBytes(32).toString('base64url');
  await writeFile(file, generated, { mode: 0o600, flag: 'wx' }).catch(async (error) => {
    // Another process won the race: use its key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  return (await readFile(file, 'utf8')).trim();
}
