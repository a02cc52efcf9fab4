// Runs `prisma generate` offline. npm 11 skips dependencies' install scripts, so Prisma's
// engines are never downloaded; generate only needs PRISMA_SCHEMA_ENGINE_BINARY to name an
// existing file, since the prisma-client generator itself is pure TypeScript.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
const result = spawnSync('npx', ['prisma', 'generate', '--schema', 'prisma/schema.prisma'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
