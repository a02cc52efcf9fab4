// Entry point of `npm run dev:fake-llm`: the only file here that acts when loaded.
import { createEchoFallback, startFakeLlm } from './index.js';

const DEFAULT_PORT = 4010;
const MAX_PORT = 65_535;

function intFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name} must be an integer between 0 and ${max}, got "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const port = intFromEnv('FAKE_LLM_PORT', DEFAULT_PORT, MAX_PORT);
  // Zero by default; a few tens of milliseconds make streaming visible in a UI.
  const chunkDelayMs = intFromEnv('FAKE_LLM_CHUNK_DELAY_MS', 0, Number.MAX_SAFE_INTEGER);
  const llm = await startFakeLlm({
    port,
    host: process.env.FAKE_LLM_HOST || undefined,
    fallback: createEchoFallback({ chunkDelayMs }),
  });
  console.log(`fake-llm listening; use base URL ${llm.baseUrl} (any API key works)`);
  console.log('POST /__script to enqueue steps, GET /__requests to see what was asked');

  const stop = () => {
    void llm.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
