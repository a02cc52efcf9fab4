/** One message of an OpenAI chat request, as far as the fake needs to read it. */
export interface ChatRequestMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: string;
  [key: string]: unknown;
}

/**
 * The parsed JSON body of a POST /v1/chat/completions call. Only `messages` is checked on the way
 * in; everything else is recorded untouched so tests can assert on what the client really sent.
 * A POST /v1/messages (Anthropic) body is translated into this shape (see anthropic-request.ts),
 * so one script, one `match` and one fallback serve both APIs; its original is in `raw`.
 */
export interface ChatRequestBody {
  model?: string;
  messages: ChatRequestMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  [key: string]: unknown;
}

export interface ScriptedToolCall {
  /** Defaults to a generated `call_…` id. */
  id?: string;
  name: string;
  /**
   * Serialised with JSON.stringify. A string is sent verbatim as the raw arguments text, which is
   * how a test produces invalid JSON arguments.
   */
  args: unknown;
  /** How many deltas the arguments are split across (default 3). */
  argsChunks?: number;
}

export interface ScriptedUsage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens?: number;
  /** Prompt tokens read from the provider's cache; part of promptTokens. */
  cachedTokens?: number;
  /** Prompt tokens written to the provider's cache; part of promptTokens. */
  cacheWriteTokens?: number;
}

/**
 * On /v1/messages: stop → end_turn, length → max_tokens, tool_calls → tool_use, content_filter →
 * refusal, pause_turn as is. pause_turn is Anthropic's only: chat completions send 'stop'.
 */
export type ScriptedFinishReason =
  'stop' | 'length' | 'tool_calls' | 'content_filter' | 'pause_turn';

export interface ScriptedResponse {
  /** A request takes the first queued step whose `match` passes (or that has none). */
  match?: (body: ChatRequestBody) => boolean;
  /** An array is one SSE chunk per element; a string is split into a few chunks. */
  text?: string | string[];
  /**
   * One chunk per element: `delta.reasoning_content` on /v1/chat/completions, a `thinking` block
   * of `thinking_delta`s closed by a `signature_delta` on /v1/messages.
   */
  reasoning?: string[];
  /** The thinking block's signature on /v1/messages. Default: a generated one. */
  reasoningSignature?: string;
  toolCalls?: ScriptedToolCall[];
  /** Defaults to token counts estimated from the request and response lengths. */
  usage?: ScriptedUsage;
  /** Defaults to 'tool_calls' when there are tool calls, else 'stop'. */
  finishReason?: ScriptedFinishReason;
  /** Wait before sending the response headers. */
  delayMs?: number;
  /**
   * In-process only: answer once this promise settles. Lets a test make sure it is subscribed
   * before a turn starts streaming, without sleeping.
   */
  gate?: Promise<unknown>;
  /** In-process only: after this many SSE chunks, wait for `release` before sending the rest. */
  holdAfterChunks?: number;
  release?: Promise<unknown>;
  /** Wait between SSE chunks. */
  chunkDelayMs?: number;
  /** Answer with this HTTP status and an OpenAI-style error body instead of a completion. */
  status?: number;
  errorMessage?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '2' }` alongside a 429. */
  headers?: Record<string, string>;
  /**
   * Send the headers and every content chunk, then never finish: no finish chunk, no usage, no
   * [DONE]. The response stays open until the client goes away or the server closes.
   */
  hang?: boolean;
  /** Destroy the socket after this many SSE chunks: a connection reset mid-stream. */
  dropAfterChunks?: number;
  /**
   * Send the content chunks, then this error inside the stream instead of finishing: an `error`
   * event on /v1/messages (e.g. type 'overloaded_error'), a `data: {"error": …}` chunk on
   * /v1/chat/completions.
   */
  streamError?: { type: string; message: string };
}

/** Decides what to answer when no scripted step matches. Returning a step reuses its rendering. */
export type FallbackHandler = (body: ChatRequestBody) => ScriptedResponse;

/** Which wire protocol a request used. */
export type FakeLlmApi = 'openai' | 'anthropic';

export interface RecordedRequest {
  /** For /v1/messages, the request translated to the chat-completions shape. */
  body: ChatRequestBody;
  api: FakeLlmApi;
  /** The JSON body exactly as received (the same object as `body` for chat completions). */
  raw: Record<string, unknown>;
  stream: boolean;
  /** 'script' when a queued step answered it, 'fallback' otherwise. */
  source: 'script' | 'fallback';
  /**
   * Value of the Authorization header, so tests can check which key a provider used; for
   * /v1/messages, `Bearer <x-api-key>` when that header is used instead.
   */
  authorization: string | undefined;
  /** Request headers as received (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeLlm {
  /** Base URL to hand to an OpenAI client, e.g. http://127.0.0.1:4010/v1. */
  readonly baseUrl: string;
  /** Base URL to hand to an Anthropic client, e.g. http://127.0.0.1:4010 (it appends /v1/…). */
  readonly anthropicBaseUrl: string;
  readonly port: number;
  /** Every /v1/chat/completions and /v1/messages call, in arrival order (recorded before any delay). */
  readonly requests: RecordedRequest[];
  script(...steps: ScriptedResponse[]): void;
  /** Resolves once at least `n` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Number of scripted steps not consumed yet. */
  pending(): number;
  /** Forget queued steps and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface StartFakeLlmOptions {
  port?: number;
  host?: string;
  fallback?: FallbackHandler;
}
