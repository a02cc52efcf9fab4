import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpStatus, isErrorStatus } from '../../http-status.js';
import { anthropicToChatBody } from './anthropic-request.js';
import { parseRemoteScript } from './control.js';
import { failFallback } from './fallbacks.js';
import {
  newId,
  renderCompletion,
  renderContext,
  renderError,
  renderStreamChunks,
} from './render.js';
import {
  renderAnthropicError,
  renderAnthropicFrames,
  renderAnthropicMessage,
} from './render-anthropic.js';
import type {
  ChatRequestBody,
  FakeLlm,
  FakeLlmApi,
  RecordedRequest,
  ScriptedResponse,
  StartFakeLlmOptions,
} from './types.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_WAIT_TIMEOUT_MS = 5_000;
const COMPLETIONS_PATH = '/v1/chat/completions';
const MESSAGES_PATH = '/v1/messages';

/** What differs between the two wire protocols; everything else (scripts, timing) is shared. */
interface Dialect {
  /** Checks and translates a request body; undefined when it is malformed. */
  parse(value: unknown): ChatRequestBody | undefined;
  error(status: number, message: string): object;
  /** SSE frames: those a hanging response still sends, then the finishing ones. */
  frames(step: ScriptedResponse, body: ChatRequestBody): { content: string[]; tail: string[] };
  /** Sent after the tail: OpenAI's [DONE] sentinel; Anthropic ends with message_stop. */
  end: string;
  whole(step: ScriptedResponse, body: ChatRequestBody): object;
}

const openAiDialect: Dialect = {
  parse: asChatRequest,
  error: renderError,
  frames(step, body) {
    const { content, tail } = renderStreamChunks(step, body, renderContext(body));
    const toFrame = (chunk: object) => `data: ${JSON.stringify(chunk)}\n\n`;
    return { content: content.map(toFrame), tail: tail.map(toFrame) };
  },
  end: 'data: [DONE]\n\n',
  whole: (step, body) => renderCompletion(step, body, renderContext(body)),
};

const anthropicDialect: Dialect = {
  parse: anthropicToChatBody,
  error: renderAnthropicError,
  frames: (step, body) => renderAnthropicFrames(step, body, anthropicContext(body)),
  end: '',
  whole: (step, body) => renderAnthropicMessage(step, body, anthropicContext(body)),
};

function anthropicContext(body: ChatRequestBody) {
  return { ...renderContext(body), id: newId('msg_fake_') };
}

const DIALECTS: Record<FakeLlmApi, Dialect> = {
  openai: openAiDialect,
  anthropic: anthropicDialect,
};

/** One request being answered: the step it got, in its dialect, until `signal` ends it. */
interface Exchange {
  res: ServerResponse;
  step: ScriptedResponse;
  body: ChatRequestBody;
  signal: AbortSignal;
  dialect: Dialect;
}

interface Waiter {
  count: number;
  resolve: (requests: RecordedRequest[]) => void;
}

/** Resolves true when `gate` settles, false when the request ends first. */
function waitForGate(gate: Promise<unknown> | undefined, signal: AbortSignal): Promise<boolean> {
  if (!gate) return Promise.resolve(true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    gate.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(!signal.aborted);
      },
      () => resolve(false),
    );
  });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts, so no timer outlives a response. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves once the data is handed to the socket, so a following destroy() cannot discard it. */
function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(data, () => resolve());
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function asChatRequest(value: unknown): ChatRequestBody | undefined {
  if (typeof value !== 'object' || value === null || !('messages' in value)) return undefined;
  const { messages } = value;
  if (!Array.isArray(messages)) return undefined;
  const wellFormed = messages.every(
    (m: unknown) =>
      typeof m === 'object' && m !== null && 'role' in m && typeof m.role === 'string',
  );
  // Checked just above: an object with an array of messages that each have a string role.
  return wellFormed ? (value as ChatRequestBody) : undefined;
}

function safeMatch(step: ScriptedResponse, body: ChatRequestBody): boolean {
  if (!step.match) return true;
  try {
    return step.match(body);
  } catch {
    // A throwing matcher is treated as "not for this request"; the fallback then fails loudly.
    return false;
  }
}

/** Starts the scripted OpenAI-compatible server. See index.ts for how to use it. */
export async function startFakeLlm(options: StartFakeLlmOptions = {}): Promise<FakeLlm> {
  const host = options.host ?? DEFAULT_HOST;
  const fallback = options.fallback ?? failFallback;
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<Waiter>();
  // Aborted by close(): ends every delay and hanging response still in progress.
  const lifetime = new AbortController();

  function record(entry: RecordedRequest): void {
    requests.push(entry);
    for (const waiter of waiters) {
      if (requests.length >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve([...requests]);
      }
    }
  }

  function take(body: ChatRequestBody): ScriptedResponse | undefined {
    const index = queue.findIndex((step) => safeMatch(step, body));
    if (index === -1) return undefined;
    const [step] = queue.splice(index, 1);
    return step;
  }

  async function streamResponse({ res, step, body, signal, dialect }: Exchange): Promise<void> {
    res.writeHead(HttpStatus.OK, {
      ...step.headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const { content, tail } = dialect.frames(step, body);
    const chunks = step.hang === true ? content : [...content, ...tail];
    const dropAfter = step.dropAfterChunks;
    if (dropAfter === 0) {
      // An SSE comment makes sure the headers reached the client before the reset.
      await write(res, ': fake-llm\n\n');
      res.destroy();
      return;
    }
    let sent = 0;
    for (const chunk of chunks) {
      if (sent > 0 && !(await sleep(step.chunkDelayMs ?? 0, signal))) return;
      if (sent === step.holdAfterChunks && !(await waitForGate(step.release, signal))) return;
      if (signal.aborted) return;
      await write(res, chunk);
      sent += 1;
      if (dropAfter !== undefined && sent >= dropAfter) {
        res.destroy();
        return;
      }
    }
    if (step.hang === true) return;
    if (dropAfter !== undefined) {
      res.destroy();
      return;
    }
    res.end(step.streamError ? '' : dialect.end);
  }

  async function answer(exchange: Exchange): Promise<void> {
    const { res, step, body, signal, dialect } = exchange;
    if (!(await sleep(step.delayMs ?? 0, signal))) return;
    if (!(await waitForGate(step.gate, signal))) return;
    if (step.status !== undefined && isErrorStatus(step.status)) {
      const message = step.errorMessage ?? `fake-llm: scripted HTTP ${step.status}`;
      sendJson(res, step.status, dialect.error(step.status, message), step.headers);
      return;
    }
    if (body.stream === true) {
      await streamResponse(exchange);
      return;
    }
    if (step.hang === true) {
      res.writeHead(HttpStatus.OK, { ...step.headers, 'content-type': 'application/json' });
      res.flushHeaders();
      return;
    }
    if (step.dropAfterChunks !== undefined) {
      res.destroy();
      return;
    }
    sendJson(res, HttpStatus.OK, dialect.whole(step, body), step.headers);
  }

  async function handleCompletion(
    req: IncomingMessage,
    res: ServerResponse,
    api: FakeLlmApi,
  ): Promise<void> {
    const dialect = DIALECTS[api];
    // Ends this response's delays when the client goes away or the server closes.
    const connection = new AbortController();
    res.on('close', () => connection.abort());
    const signal = AbortSignal.any([connection.signal, lifetime.signal]);
    const parsed = parseJson(await readBody(req));
    const body = parsed.ok ? dialect.parse(parsed.value) : undefined;
    if (!parsed.ok || !body) {
      const message = 'fake-llm: body must be JSON with a messages array';
      sendJson(res, HttpStatus.BAD_REQUEST, dialect.error(HttpStatus.BAD_REQUEST, message));
      return;
    }
    const scripted = take(body);
    const apiKey = req.headers['x-api-key'];
    record({
      body,
      api,
      raw: parsed.value as Record<string, unknown>,
      stream: body.stream === true,
      source: scripted ? 'script' : 'fallback',
      authorization:
        req.headers.authorization ?? (typeof apiKey === 'string' ? `Bearer ${apiKey}` : undefined),
      headers: { ...req.headers },
    });
    await answer({ res, step: scripted ?? fallback(body), body, signal, dialect });
  }

  async function handleScript(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseJson(await readBody(req));
    const script = parsed.ok
      ? parseRemoteScript(parsed.value)
      : { ok: false as const, error: 'not JSON' };
    if (!script.ok) {
      const message = `fake-llm: /__script wants a JSON array of steps: ${script.error}`;
      sendJson(res, HttpStatus.BAD_REQUEST, renderError(HttpStatus.BAD_REQUEST, message));
      return;
    }
    queue.push(...script.steps);
    sendJson(res, HttpStatus.OK, { pending: queue.length });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-llm').pathname;
    if (req.method === 'POST' && path === COMPLETIONS_PATH) {
      return handleCompletion(req, res, 'openai');
    }
    if (req.method === 'POST' && path === MESSAGES_PATH)
      return handleCompletion(req, res, 'anthropic');
    if (req.method === 'POST' && path === '/__script') return handleScript(req, res);
    if (req.method === 'GET' && path === '/__requests')
      return sendJson(res, HttpStatus.OK, requests);
    if (req.method === 'POST' && path === '/__reset') {
      reset();
      return sendJson(res, HttpStatus.OK, { pending: 0 });
    }
    const message = `fake-llm: no route for ${req.method ?? '?'} ${path}`;
    sendJson(res, HttpStatus.NOT_FOUND, renderError(HttpStatus.NOT_FOUND, message));
  }

  function reset(): void {
    queue.length = 0;
    requests.length = 0;
  }

  const server = createServer((req, res) => {
    // A client that vanishes mid-write must not crash the process hosting the fake.
    res.on('error', () => {});
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = `fake-llm: ${err instanceof Error ? err.message : String(err)}`;
      sendJson(
        res,
        HttpStatus.INTERNAL_SERVER_ERROR,
        renderError(HttpStatus.INTERNAL_SERVER_ERROR, message),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    baseUrl: `http://${urlHost}:${port}/v1`,
    anthropicBaseUrl: `http://${urlHost}:${port}`,
    port,
    requests,
    script(...steps) {
      queue.push(...steps);
    },
    pending: () => queue.length,
    reset,
    waitForRequests(count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `fake-llm: waited ${timeoutMs} ms for ${count} requests, got ${requests.length}`,
            ),
          );
        }, timeoutMs);
        const waiter: Waiter = {
          count,
          resolve: (all) => {
            clearTimeout(timer);
            resolve(all);
          },
        };
        waiters.add(waiter);
      });
    },
    async close() {
      lifetime.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hanging responses and keep-alive sockets would otherwise hold close() open forever.
      server.closeAllConnections();
      await closed;
    },
  };
}
