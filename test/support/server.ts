import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createBackendEnv, type BackendEnv } from './backend.js';
import { TestClient } from './client.js';
import { probeSubscriptions, type SubscriptionProbe } from './server-probes.js';

/**
 * One in-process server on port 0 with its own database, for integration tests.
 * `admin` is authenticated with the bootstrap token; `createMember()` adds users.
 */
export interface TestServer {
  app: App;
  url: string;
  env: Record<string, string>;
  admin: TestClient;
  anonymous: TestClient;
  /** The server's pub/sub subscriptions: wait until one is active instead of polling for it. */
  subscriptions: SubscriptionProbe;
  createMember(username?: string): Promise<{ id: string; client: TestClient }>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra environment (e.g. CHAT_* intervals). DAEMON_ENABLED defaults to true. */
  env?: Record<string, string>;
  /** Reuse a backend (several servers on one database). */
  backendEnv?: BackendEnv;
  /** The app's logger (a test that reads the log lines); default: LOG_LEVEL to stderr. */
  logger?: Logger;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const backendEnv = options.backendEnv ?? (await createBackendEnv());
  const adminToken = `test-admin-${randomBytes(12).toString('hex')}`;
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    BOOTSTRAP_ADMIN_TOKEN: adminToken,
    ...backendEnv.env,
    ...options.env,
  };
  const app = buildApp(loadConfig(env), { logger: options.logger });
  const { url } = await app.start();
  const subscriptions = probeSubscriptions(app.deps.pubsub);
  const admin = new TestClient(url, adminToken);
  let memberCount = 0;
  return {
    app,
    url,
    env,
    admin,
    anonymous: new TestClient(url, null),
    subscriptions,
    async createMember(username = `member${++memberCount}-${randomBytes(3).toString('hex')}`) {
      const created = await admin.query<{ createUser: { id: string } }>(
        `mutation ($username: String!) { createUser(input: { username: $username, role: MEMBER }) { id } }`,
        { username },
      );
      const id = created.createUser.id;
      const tokenResult = await admin.query<{ createApiToken: { token: string } }>(
        `mutation ($userId: ID!) { createApiToken(name: "test", userId: $userId) { token } }`,
        { userId: id },
      );
      return { id, client: new TestClient(url, tokenResult.createApiToken.token) };
    },
    async close() {
      await app.stop();
      if (!options.backendEnv) await backendEnv.cleanup();
    },
  };
}
