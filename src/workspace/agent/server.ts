import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { AgentRequestError, badRequest } from './errors.js';
import { editFiles, listDirectory, readFile, writeFile } from './files.js';
import { isAuthorized, readJson, sendError, sendJson } from './http.js';
import { Workspace } from './paths.js';
import { DEFAULT_MAX_PROCESSES, MAX_WAIT_MS, ProcessManager } from './processes.js';
import { FALLBACK_PATH } from './environment.js';
import { API_PREFIX, type HealthResponse } from './protocol.js';
import {
  DEFAULT_SANDBOX_SETTINGS,
  resolveSandbox,
  type ResolvedSandbox,
  type SandboxSettings,
} from './sandbox.js';
import {
  editFilesSchema,
  envSchema,
  listDirectorySchema,
  readFileSchema,
  signalProcessSchema,
  startProcessSchema,
  waitMsQuerySchema,
  writeFileSchema,
} from './schemas.js';

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
}

export interface WorkspaceAgent {
  /** Base URL, e.g. http://127.0.0.1:43125 (routes live under /api/v0). */
  url: string;
  /** How this agent runs commands (bwrap, or unsandboxed and why). */
  sandbox: ResolvedSandbox;
  /** Stops listening, drops open connections and SIGKILLs every process group it started. */
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, url: URL, params: string[]) => Promise<unknown>;

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: Handler;
}

/** A process id in a path: the ids are UUIDs, anything else cannot match one. */
const PROCESS_ID = '([0-9a-fA-F-]{1,64})';

function buildRoutes(workspace: Workspace, processes: ProcessManager): Route[] {
  const route = (method: Route['method'], path: string, handler: Handler): Route => ({
    method,
    pattern: new RegExp(`^${API_PREFIX}${path}$`),
    handler,
  });
  const param = (params: string[], index: number): string => {
    const value = params[index];
    if (value === undefined) throw badRequest('Missing path parameter');
    return value;
  };
  return [
    route('POST', '/files/read', async (req) =>
      readFile(workspace, await readJson(req, readFileSchema)),
    ),
    route('POST', '/files/write', async (req) =>
      writeFile(workspace, await readJson(req, writeFileSchema)),
    ),
    route('POST', '/files/edit', async (req) =>
      editFiles(workspace, await readJson(req, editFilesSchema)),
    ),
    route('POST', '/files/list', async (req) =>
      listDirectory(workspace, await readJson(req, listDirectorySchema)),
    ),
    route('POST', '/processes/start', async (req) =>
      processes.start(await readJson(req, startProcessSchema)),
    ),
    route('GET', '/processes', async () => ({ processes: processes.list() })),
    route('GET', `/processes/${PROCESS_ID}/output`, async (_req, url, params) => {
      const waitMs = waitMsQuerySchema.safeParse(url.searchParams.get('waitMs') ?? '0');
      if (!waitMs.success) throw badRequest(`waitMs must be an integer from 0 to ${MAX_WAIT_MS}`);
      return processes.output(param(params, 0), waitMs.data);
    }),
    route('POST', `/processes/${PROCESS_ID}/signal`, async (req, _url, params) => {
      const { signal } = await readJson(req, signalProcessSchema);
      return processes.signal(param(params, 0), signal);
    }),
  ];
}

const HEALTH_PATH = `${API_PREFIX}/health`;

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
  const routes = buildRoutes(workspace, processes);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://agent');
    if (url.pathname === HEALTH_PATH && request.method === 'GET') {
      const health: HealthResponse = { status: 'ok' };
      sendJson(response, 200, health);
      return;
    }
    if (!isAuthorized(request, options.token)) {
      throw new AgentRequestError('UNAUTHENTICATED', 'A valid bearer token is required');
    }
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const found = matching.find((r) => r.method === request.method);
    if (!found) {
      if (matching.length > 0) {
        response.setHeader('allow', matching.map((r) => r.method).join(', '));
        throw new AgentRequestError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here`);
      }
      throw new AgentRequestError('NOT_FOUND', `No route ${request.method} ${url.pathname}`);
    }
    const params = found.pattern.exec(url.pathname)?.slice(1) ?? [];
    sendJson(response, 200, await found.handler(request, url, params));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendError(response, error));
  });
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
