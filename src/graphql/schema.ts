import { builder } from './builder.js';
import './types/node.js';
import './types/user.js';
import './types/usage.js';
import './types/providers.js';
import './types/settings.js';
import './types/deployment-settings.js';
import './types/viewer-settings.js';
import './types/insights.js';
import './types/messages.js';
import './types/workspaces.js';
import './types/chats.js';
import './types/files.js';
import './types/mcp-servers.js';
import './types/chat-events.js';
import './types/plan-mode.js';
import './types/git-changes.js';

/** Imports every type family (each registers itself on the builder) and builds the schema. */
export function buildSchema() {
  return builder.toSchema({ sortSchema: false });
}
