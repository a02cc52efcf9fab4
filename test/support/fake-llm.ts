import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../src/testing/fake-llm/index.js';

/**
 * One fake LLM per test file, for tests that talk to it directly (no server). Call at file or
 * describe level; `llm` is set by the time tests run. After each test nothing scripted may be left
 * (a step left behind is a call the code never made) and the fake is reset; it closes after the
 * file.
 */
export function useFakeLlm(): { llm: FakeLlm } {
  const context = {} as { llm: FakeLlm };
  beforeAll(async () => {
    context.llm = await startFakeLlm();
  });
  afterEach(() => {
    expect(context.llm.pending()).toBe(0);
    context.llm.reset();
  });
  afterAll(async () => {
    await context.llm?.close();
  });
  return context;
}
