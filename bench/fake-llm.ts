// Entry point of the bench's fake LLM process: the shipped fake (src/testing/fake-llm) with a
// fallback that reads the bench script from the user message. Prints `{"baseUrl": …}` on stdout
// once listening; a line "release" on stdin lets every held stream continue.
import { createInterface } from 'node:readline';
import { lastUserText, startFakeLlm } from '../src/testing/fake-llm/index.js';
import { BENCH_TITLE, decodeScript, scriptChunks } from './script.js';

const HTTP_BAD_REQUEST = 400;

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

async function main(): Promise<void> {
  let held = deferred();
  const llm = await startFakeLlm({
    port: Number(process.env['BENCH_FAKE_PORT'] ?? 0),
    fallback: (body) => {
      // Title generation is the service's only non-streaming call.
      if (body.stream !== true) return { text: BENCH_TITLE };
      const script = decodeScript(lastUserText(body));
      if (!script) {
        return { status: HTTP_BAD_REQUEST, errorMessage: 'bench fake: no bench script' };
      }
      const chunks = scriptChunks(script);
      return {
        text: chunks,
        chunkDelayMs: script.delayMs,
        usage: { promptTokens: 10, completionTokens: chunks.length },
        // Chunk 0 is the role delta: hold after the first content delta.
        ...(script.hold ? { holdAfterChunks: 2, release: held.promise } : {}),
      };
    },
  });
  // Recorded requests are for tests; over a long bench they would only grow.
  const forget = setInterval(() => llm.requests.splice(0), 1_000);
  forget.unref();
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'release') return;
    held.resolve();
    held = deferred();
  });
  console.log(JSON.stringify({ baseUrl: llm.baseUrl }));
  const stop = () => void llm.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
