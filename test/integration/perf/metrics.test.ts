import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../support/server.js';

/** Parses Prometheus text into name → value (no labels are used here). */
async function scrape(server: TestServer): Promise<Map<string, number>> {
  const response = await fetch(new URL('/metrics', server.url));
  expect(response.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    values.set(name!, Number(value));
  }
  return values;
}

describe('GET /metrics (issue #9: what the benchmark reads)', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No daemon: its acquire poll would add statements to the counts compared here.
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('counts the SQL statements a request sends and reports the process figures', async () => {
    const before = await scrape(server);
    await server.admin.query(`{ viewer { id } }`);
    const after = await scrape(server);
    // The viewer query authenticates (at least one statement) and reads nothing else.
    expect(after.get('agentgraph_sql_statements_total')!).toBeGreaterThan(
      before.get('agentgraph_sql_statements_total')!,
    );
    expect(after.get('agentgraph_chats_running')).toBe(0);
    expect(after.get('process_cpu_user_seconds_total')!).toBeGreaterThan(0);
    expect(after.get('process_cpu_system_seconds_total')!).toBeGreaterThanOrEqual(0);
    expect(after.get('process_resident_memory_bytes')!).toBeGreaterThan(0);
  });

  it('counts a transaction as BEGIN, its statements and COMMIT on either backend', async () => {
    const counted = server.app.deps.prisma;
    const before = (await scrape(server)).get('agentgraph_sql_statements_total')!;
    await counted.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1`;
      await tx.$queryRaw`SELECT 2`;
    });
    const after = (await scrape(server)).get('agentgraph_sql_statements_total')!;
    // BEGIN, two SELECTs, COMMIT: the same on Postgres and PGlite.
    expect(after - before).toBe(4);
  });
});
