import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { buildApp } from '../../../src/server/app.js';
import { backend, createBackendEnv, type BackendEnv } from '../../support/backend.js';

async function connectionsTo(databaseUrl: string): Promise<number> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>(
      'SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    return Number(result.rows[0]!.count);
  } finally {
    await client.end();
  }
}

/** A start() that fails (here: the port is taken) closes everything it had opened. */
describe('a failed start', () => {
  let backendEnv: BackendEnv;
  let blocker: Server;
  let takenPort: number;

  beforeAll(async () => {
    backendEnv = await createBackendEnv();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    takenPort = (blocker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker?.close(resolve));
    await backendEnv?.cleanup();
  });

  function configOn(port: number) {
    return loadConfig({
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      BOOTSTRAP_ADMIN_TOKEN: 'start-failure-admin-token',
      ...backendEnv.env,
    });
  }

  it('rejects, closes its database connections and leaves the data usable', async () => {
    // A first start and stop migrates the database, so the failing one only opens connections.
    const first = buildApp(configOn(0));
    await first.start();
    await first.stop();

    const app = buildApp(configOn(takenPort));
    await expect(app.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });

    if (backend === 'services')
      expect(await connectionsTo(backendEnv.env['DATABASE_URL']!)).toBe(0);
    expect(() => app.services).toThrow('App not started');
    await app.stop(); // nothing left to close

    // The same data opens again.
    const again = buildApp(configOn(0));
    await again.start();
    await again.stop();
  });
});
