import type { Viewer } from '../deps.js';
import type { PrismaClient } from '../db/client.js';
import type { PubSub } from '../pubsub/index.js';
import type { Services } from '../services.js';

/** Per-operation context, the same for HTTP and WebSocket operations. */
export interface GraphQLContext {
  /** Always set: an operation without a valid token never reaches a resolver (B4). */
  viewer: Viewer;
  prisma: PrismaClient;
  pubsub: PubSub;
  services: Services;
}
