import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * GET /metrics in Prometheus text format: the daemon's, GraphQL's (Yoga's plugin) and the
 * process's figures of this replica. With METRICS_TOKEN set it needs `Authorization: Bearer
 * <token>` (compared in constant time); without, it is open, for a scraper on a private network.
 * The benchmark reads agentgraph_sql_statements_total and the process figures from it.
 */
export function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  { metrics, token, logger }: { metrics: Metrics; token: string | undefined; logger: Logger },
): void {
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res
      .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
      .end('A valid bearer token is required');
    return;
  }
  metrics.registry.metrics().then(
    (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
    (error: unknown) => {
      // Typically the chats-by-status query (the database is down); /readyz says so too.
      logger.warn('collecting metrics failed', { error });
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Collecting metrics failed');
    },
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '');
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}
