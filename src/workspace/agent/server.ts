import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { createAdaptorServer } from '@hono/node-server';

import { jsonBody } from './http.js';
import { Workspace } from './paths.js';
import { DEFAULT_MAX_PROCESSES, ProcessManager } from './processes.js';
import { FALLBACK_PATH } from './environment.js';
import {
  createCheckpointSchema,
  createGitHandlers,
  gitChangesSchema,
  restoreCheckpointSchema,
} from './git-routes.js';
import { createAgentApp } from './router.js';
import {
  DEFAULT_SANDBOX_SETTINGS,
  resolveSandbox,
  type ResolvedSandbox,
  type SandboxSettings,
} from './sandbox.js';
import { envSchema } from './schemas.js';

export const DEFAULT_AGENT_HOST = '127.0.0.1';

export interface WorkspaceAgentOptions {
  /** Directory served; every path a request names must resolve (symlinks included) inside it. */
  root: string;
  /** Bearer token every request but health must carry. Must not be empty. */
  token: string;
  /** Default 0: a free port, read it from the returned url. */
  port?: number;
  /** Default 127.0.0.1; bind wider only behind a network you trust, the token is the only guard. */
  host?: string;
  /** Running processes allowed at once. Default 16. */
  maxProcesses?: number;
  /**
   * Extra environment for every process, on top of the built-in allow-list (never the agent's own
   * environment, see environment.ts). Requests can add and override more.
   */
  env?: Record<string, string>;
  /**
   * How commands are isolated (sandbox.ts). Default: mode auto (bwrap when it works), network
   * none, DEFAULT_LIMITS. Mode bwrap makes the start fail when bwrap does not work.
   */
  sandbox?: SandboxSettings;
  /**
   * The agent's own files (checkpoints), outside the workspace and never visible to its commands.
   * Default: `<parent of root>/.agentgraph-state/<name of root>`.
   */
  stateDir?: string;
}

export interface WorkspaceAgent {
  /** Base URL, e.g. http://127.0.0.1:43125 (routes live under /api/v0). */
  url: string;
  /** How this agent runs commands (bwrap, or unsandboxed and why). */
  sandbox: ResolvedSandbox;
  /** Stops listening, drops open connections and SIGKILLs every process group it started. */
  close(): Promise<void>;
}

/**
 * Starts an agent serving one workspace directory over HTTP. The same API serves an agent embedded
 * in the server process and one running beside a remote workspace (main.ts).
 */
export async function startWorkspaceAgent(options: WorkspaceAgentOptions): Promise<WorkspaceAgent> {
  if (options.token.length === 0) throw new Error('startWorkspaceAgent: token must not be empty');
  const agentEnv = envSchema.parse(options.env ?? {});
  const workspace = await Workspace.open(options.root);
  const sandbox = resolveSandbox(options.sandbox ?? DEFAULT_SANDBOX_SETTINGS);
  const processes = new ProcessManager({
    workspace,
    maxProcesses: options.maxProcesses ?? DEFAULT_MAX_PROCESSES,
    agentEnv,
    path: sandbox.kind === 'bwrap' ? sandboxPath() : process.env.PATH,
    sandbox,
  });
  const stateDir = options.stateDir ?? defaultStateDir(workspace.root);
  const git = createGitHandlers(workspace, stateDir);
  const app = createAgentApp({ token: options.token, workspace, processes });
  app.post('/git/changes', jsonBody(gitChangesSchema), async (c) =>
    c.json(await git.changes(c.req.valid('json'))),
  );
  app.post('/checkpoints/create', jsonBody(createCheckpointSchema), async (c) =>
    c.json(await git.createCheckpoint()),
  );
  app.post('/checkpoints/restore', jsonBody(restoreCheckpointSchema), async (c) =>
    c.json(await git.restoreCheckpoint(c.req.valid('json'))),
  );

  // overrideGlobalObjects: false, or the adapter would replace the process's Request and Response
  // (the agent runs inside the server process too).
  // Plain HTTP/1.1 (no serverOptions), so the adapter builds a node:http Server.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? DEFAULT_AGENT_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    sandbox,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await processes.close();
        await stopped;
      })()),
  };
}

/** See WorkspaceAgentOptions.stateDir. */
export function defaultStateDir(root: string): string {
  return path.join(path.dirname(root), '.agentgraph-state', path.basename(root));
}

/**
 * PATH inside the sandbox: the system directories (all that is mounted there) plus node's own,
 * not the agent's PATH, whose entries (node_modules/.bin of the checkout, $HOME tools) are not
 * mounted and would only point at nothing.
 */
function sandboxPath(): string {
  const nodeDir = path.dirname(process.execPath);
  const entries = FALLBACK_PATH.split(':');
  return (entries.includes(nodeDir) ? entries : [...entries, nodeDir]).join(':');
}
