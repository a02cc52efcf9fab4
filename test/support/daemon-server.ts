import { afterAll, beforeAll } from 'vitest';
import {
  lastUserText,
  type ChatRequestBody,
  type FakeLlm,
} from '../../src/testing/fake-llm/index.js';
import { configureFakeModel, isTurn, startScriptedLlm } from './llm.js';
import { startTestServer, type TestServer } from './server.js';

/**
 * One server with its daemon and one scripted LLM per test file, configured as the default model.
 * Call at describe level; the returned object's fields are set by the time tests run.
 */
export function useDaemonServer(
  options: {
    env?: Record<string, string>;
    model?: Parameters<typeof configureFakeModel>[2];
    startLlm?: () => Promise<FakeLlm>;
  } = {},
) {
  const context = {} as {
    server: TestServer;
    llm: FakeLlm;
    /** The provider and model config pointing at the fake (the default model). */
    model: { providerId: string; modelConfigId: string };
  };
  beforeAll(async () => {
    context.llm = await (options.startLlm ?? startScriptedLlm)();
    context.server = await startTestServer({
      env: { CHAT_ACQUIRE_INTERVAL_MS: '100', ...options.env },
    });
    context.model = await configureFakeModel(context.server.admin, context.llm, options.model);
  });
  afterAll(async () => {
    await context.server?.close();
    await context.llm?.close();
  });
  return context;
}

/** Matches the turn request whose last user message is `text`. */
export const answering = (text: string) => (body: ChatRequestBody) =>
  isTurn(body) && lastUserText(body) === text;
