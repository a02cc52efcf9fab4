/**
 * # fake-llm — the project's one test double for model providers
 *
 * A real HTTP server speaking the OpenAI chat-completions protocol (streaming SSE and plain JSON),
 * answering from a script. Tests, demos and benchmarks point a provider's base URL at it, so the
 * code under test runs its real HTTP client, parser and error handling.
 *
 * ## In a test
 * ```ts
 * const llm = await startFakeLlm(); // port 0, 127.0.0.1
 * afterAll(() => llm.close());
 *
 * llm.script(
 *   { text: ['Hel', 'lo'], usage: { promptTokens: 10, completionTokens: 2 } },
 *   { toolCalls: [{ name: 'read_file', args: { path: 'a.ts' } }] },
 *   { match: (body) => lastUserText(body).includes('title'), text: 'A title' },
 * );
 * const model = createLanguageModel({ kind: 'OPENAI_COMPATIBLE', baseUrl: llm.baseUrl, ... });
 * await llm.waitForRequests(1); // event-based; never sleep
 * expect(llm.requests[0]?.body.messages).toEqual(...);
 * expect(llm.pending()).toBe(0);
 * ```
 * Each request takes the FIRST queued step whose `match` passes (steps without `match` match
 * anything), so unrelated calls made concurrently (e.g. title generation) can be routed by
 * `match` while the main conversation consumes the rest in order.
 *
 * A request no step matches goes to the fallback. The default one answers HTTP 500
 * "fake-llm: no scripted response for this request" and records it with `source: 'fallback'`, so
 * an unexpected call fails the test loudly. `echoFallback` instead streams "You said: <last user
 * message>" (and answers non-streaming calls with a short title): that is what the demo uses.
 *
 * ## Failure modes a step can script
 * - `status` + `errorMessage` (+ `headers`, e.g. retry-after): an OpenAI-style error body.
 * - `hang`: headers and content chunks, then nothing until the client aborts or the server closes.
 * - `dropAfterChunks`: the socket is destroyed after N chunks (connection reset mid-stream).
 * - `delayMs` before the headers, `chunkDelayMs` between chunks.
 *
 * ## From another process
 * `npm run dev:fake-llm` starts it on FAKE_LLM_PORT (default 4010) with the echo fallback.
 * - `POST /__script` with a JSON array of steps (no `match`) enqueues them; unknown fields are a 400.
 * - `GET /__requests` returns the recorded requests; `POST /__reset` forgets steps and requests.
 */
export { startFakeLlm } from './server.js';
export {
  createEchoFallback,
  echoFallback,
  failFallback,
  NO_SCRIPT_MESSAGE,
  titleFrom,
  type EchoFallbackOptions,
} from './fallbacks.js';
export { firstUserText, lastUserText, messageText } from './render.js';
export type {
  ChatRequestBody,
  ChatRequestMessage,
  FakeLlm,
  FallbackHandler,
  RecordedRequest,
  ScriptedFinishReason,
  ScriptedResponse,
  ScriptedToolCall,
  ScriptedUsage,
  StartFakeLlmOptions,
} from './types.js';
