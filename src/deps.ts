import type { Config } from './config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { PrismaClient } from './db/client.js';
import type { Logger } from './logger.js';
import type { PubSub } from './pubsub/index.js';

/** What every domain service is built from. Resolvers and the daemon share these instances. */
export interface Deps {
  prisma: PrismaClient;
  pubsub: PubSub;
  secretBox: SecretBox;
  config: Config;
  logger: Logger;
}

export interface Viewer {
  id: string;
  username: string;
  role: 'ADMIN' | 'MEMBER';
}

export const isAdmin = (viewer: Viewer) => viewer.role === 'ADMIN';
