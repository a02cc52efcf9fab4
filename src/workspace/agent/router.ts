import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

import { AgentRequestError } from './errors.js';
import { editFiles, listDirectory, readFile, writeFile } from './files.js';
import { isAuthorized, jsonBody, MAX_BODY_BYTES } from './http.js';
import type { Workspace } from './paths.js';
import { MAX_WAIT_MS, type ProcessManager } from './processes.js';
import { API_PREFIX, type AgentErrorBody, type HealthResponse } from './protocol.js';
import {
  editFilesSchema,
  listDirectorySchema,
  readFileSchema,
  signalProcessSchema,
  startProcessSchema,
  waitMsQuerySchema,
  writeFileSchema,
} from './schemas.js';

export interface AgentAppOptions {
  /** Bearer token every route but health requires. */
  token: string;
  workspace: Workspace;
  processes: ProcessManager;
}

/** A process id in a path: the ids are UUIDs, anything else cannot match one. */
const PROCESS_ID = ':id{[0-9a-fA-F-]{1,64}}';

/**
 * The agent's HTTP API (protocol.ts) as a Hono app: health without a token, then the bearer check,
 * the body cap and the routes. Errors leave as `{ error: { code, message } }` with the code's
 * status: 401, 404 for an unknown route, 405 (with Allow) for a known one with another method, 413
 * for a body over MAX_BODY_BYTES, 400 for a body its route's zod schema refuses. More routes are
 * added with `app.post(path, jsonBody(schema), handler)`, after the ones here.
 */
export function createAgentApp({ token, workspace, processes }: AgentAppOptions) {
  const app = new Hono().basePath(API_PREFIX);
  app.use(methodNotAllowed({ app, onMethodNotAllowed: refuseMethod }));
  app.use(async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });
  app.get('/health', (c) => c.json({ status: 'ok' } satisfies HealthResponse));
  app.use(async (c, next) => {
    if (!isAuthorized(c.req.header('authorization'), token)) {
      throw new AgentRequestError('UNAUTHENTICATED', 'A valid bearer token is required');
    }
    await next();
  });
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AgentRequestError(
          'PAYLOAD_TOO_LARGE',
          `Request body is larger than ${MAX_BODY_BYTES} bytes`,
        );
      },
    }),
  );

  app.post('/files/read', jsonBody(readFileSchema), async (c) =>
    c.json(await readFile(workspace, c.req.valid('json'))),
  );
  app.post('/files/write', jsonBody(writeFileSchema), async (c) =>
    c.json(await writeFile(workspace, c.req.valid('json'))),
  );
  app.post('/files/edit', jsonBody(editFilesSchema), async (c) =>
    c.json(await editFiles(workspace, c.req.valid('json'))),
  );
  app.post('/files/list', jsonBody(listDirectorySchema), async (c) =>
    c.json(await listDirectory(workspace, c.req.valid('json'))),
  );
  app.post('/processes/start', jsonBody(startProcessSchema), async (c) =>
    // The request's signal aborts when the client goes away (an interrupted turn's fetch).
    c.json(await processes.start(c.req.valid('json'), c.req.raw.signal)),
  );
  app.get('/processes', (c) => c.json({ processes: processes.list() }));
  app.get(`/processes/${PROCESS_ID}/output`, async (c) => {
    const waitMs = waitMsQuerySchema.safeParse(c.req.query('waitMs') ?? '0');
    if (!waitMs.success) {
      throw new AgentRequestError(
        'BAD_REQUEST',
        `waitMs must be an integer from 0 to ${MAX_WAIT_MS}`,
      );
    }
    return c.json(await processes.output(c.req.param('id'), waitMs.data));
  });
  app.post(`/processes/${PROCESS_ID}/signal`, jsonBody(signalProcessSchema), async (c) =>
    c.json(await processes.signal(c.req.param('id'), c.req.valid('json').signal)),
  );

  app.notFound((c) =>
    sendError(c, new AgentRequestError('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`)),
  );
  app.onError((error, c) => sendError(c, error));
  return app;
}

function refuseMethod(c: Context, allowed: string[]) {
  c.header('allow', allowed.join(', '));
  return sendError(
    c,
    new AgentRequestError('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here`),
  );
}

function sendError(c: Context, error: unknown) {
  const known = asRequestError(error);
  if (!known) {
    // A bug: log it here, tell the client nothing about it.
    console.error('agentgraph-agent: unexpected error', error);
    const body: AgentErrorBody = { error: { code: 'INTERNAL', message: 'Internal error' } };
    return c.json(body, 500);
  }
  const body: AgentErrorBody = { error: { code: known.code, message: known.message } };
  if (known.details) body.error.details = known.details;
  if (known.code === 'UNAUTHENTICATED') c.header('www-authenticate', 'Bearer');
  return c.json(body, known.status as ContentfulStatusCode);
}

/** Hono's own refusals (a malformed JSON body) read as the agent's error codes. */
function asRequestError(error: unknown): AgentRequestError | undefined {
  if (error instanceof AgentRequestError) return error;
  if (error instanceof HTTPException && error.status === 400) {
    return new AgentRequestError('BAD_REQUEST', 'Request body is not valid JSON');
  }
  return undefined;
}
