import { describe, expect, it } from 'vitest';
import { eventsOf, isStatus, loadHistory, subscribeChat } from '../../support/chat-stream.js';
import type { ScriptedResponse } from '../../../src/testing/fake-llm/index.js';
import { createGate } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';
import { answering, useDaemonServer } from '../../support/daemon-server.js';

/**
 * Issue #8, partly held: a stalled provider held a chat RUNNING for 10 minutes, and a provider's
 * error text (which can echo the key) went verbatim into lastError and RetryEvents.
 */
const IDLE_TIMEOUT_MS = 300;
/** What the provider is configured with in this test; not shaped like any known key. */
const PROVIDER_KEY = 'plain-Provider-Secret-Passphrase';

type DaemonServer = ReturnType<typeof useDaemonServer>;

describe('security: a stalled provider (issue #8)', () => {
  const ctx = useDaemonServer({ env: { LLM_STREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS) } });
  const runChat = (text: string, steps: ScriptedResponse[]) => startChat(ctx, text, steps, false);

  it('a provider silent mid-stream past LLM_STREAM_IDLE_TIMEOUT_MS is retried, then the turn finishes', async () => {
    const { member, chatId, stream } = await runChat('stall once', [
      { text: ['Partial ', 'answer'], hang: true },
      { text: 'Recovered.' },
    ]);
    try {
      await stream.waitFor(isStatus('WAITING'));
      // Two attempts: the stalled one, abandoned after the silence, and its retry.
      expect(ctx.llm.requests.filter((r) => answering('stall once')(r.body))).toHaveLength(2);
      expect((await loadHistory(member.client, chatId)).transcript).toEqual([
        'USER:stall once',
        'ASSISTANT:Recovered.',
      ]);
    } finally {
      await stream.close();
    }
  });

  it('a provider that keeps stalling ends the turn ERROR with a clear lastError', async () => {
    // More hangs than the retry policy's attempts (5).
    const { member, chatId, stream } = await runChat(
      'stall always',
      Array.from({ length: 6 }, () => ({ hang: true, text: ['…'] })),
    );
    try {
      await stream.waitFor(isStatus('ERROR'));
      const { chat } = await loadHistory(member.client, chatId);
      expect(chat.lastError).toBe(`The model provider sent nothing for ${IDLE_TIMEOUT_MS} ms`);
      // Every attempt of the retry policy (5), each abandoned after the silence.
      expect(ctx.llm.requests.filter((r) => answering('stall always')(r.body))).toHaveLength(5);
    } finally {
      await stream.close();
    }
  });
});

describe('security: provider error text is redacted (issue #8)', () => {
  // The default silence timeout: the first answer is held until the test is subscribed.
  const ctx = useDaemonServer();
  const runChat = (text: string, steps: ScriptedResponse[]) => startChat(ctx, text, steps, true);

  it('redacts keys a provider echoes from RetryEvents and lastError', async () => {
    await ctx.server.admin.query(
      'mutation ($id: ID!, $key: String!) { updateProvider(input: { id: $id, apiKey: $key }) { id } }',
      { id: await defaultProviderId(), key: PROVIDER_KEY },
    );
    const { member, chatId, stream } = await runChat('leak the key', [
      { status: 503, errorMessage: `upstream rejected Authorization: Bearer ${PROVIDER_KEY}` },
      {
        status: 401,
        errorMessage: `Incorrect API key provided: ${PROVIDER_KEY.slice(6)}. Also tried sk-live-abcdef123456 and key=hunter2hunter2`,
      },
    ]);
    try {
      await stream.waitFor(isStatus('ERROR'));
      const retry = eventsOf(stream).find((e) => e.__typename === 'RetryEvent');
      const { chat } = await loadHistory(member.client, chatId);
      const leaked = [
        PROVIDER_KEY,
        PROVIDER_KEY.slice(6),
        'sk-live-abcdef123456',
        'hunter2hunter2',
      ];
      for (const text of [JSON.stringify(retry), chat.lastError ?? '']) {
        expect(text).toContain('[redacted]');
        for (const secret of leaked) expect(text).not.toContain(secret);
      }
      expect(chat.lastError).toContain(
        'Model provider returned HTTP 401: Incorrect API key provided',
      );
    } finally {
      await stream.close();
    }
  });

  async function defaultProviderId() {
    const data = await ctx.server.admin.query<{ providers: { id: string }[] }>(
      '{ providers { id } }',
    );
    return data.providers[0]!.id;
  }
});

/**
 * Scripts `steps`, creates the chat and subscribes. With `hold`, the first step waits until
 * the test is subscribed, so it sees every RetryEvent (not with a short silence timeout: the
 * wait would count as silence).
 */
async function startChat(
  ctx: DaemonServer,
  text: string,
  steps: ScriptedResponse[],
  hold: boolean,
) {
  const member = await ctx.server.createMember();
  const gate = createGate();
  const [first, ...rest] = steps;
  ctx.llm.script(
    { ...first, match: answering(text), ...(hold ? { gate: gate.promise } : {}) },
    ...rest.map((step) => ({ ...step, match: answering(text) })),
  );
  const created = await member.client.query(CreateChatMutation, { input: { text } });
  const stream = subscribeChat(member.client, created.createChat.id);
  await stream.waitFor((e) => e.chatEvents.__typename === 'StatusEvent');
  gate.open();
  return { member, chatId: created.createChat.id, stream };
}
