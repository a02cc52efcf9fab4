import { describe, expect, it } from 'vitest';

import { isStatus, subscribeChat } from '../../support/chat-stream.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import { isTurn } from '../../support/llm.js';
import { CreateChatMutation } from '../../support/operations.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

/** One sample per line: `name{labels} value`, labels kept in the key as Prometheus prints them. */
function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('GET /metrics after a real turn (issue #14)', () => {
  const ctx = useDaemonServer({ env: { METRICS_TOKEN } });
  const metricsUrl = () => new URL('/metrics', ctx.server.url);
  const scrape = async () => {
    const response = await fetch(metricsUrl(), {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseSamples(await response.text());
  };

  it('refuses a scrape without the METRICS_TOKEN bearer', async () => {
    expect((await fetch(metricsUrl())).status).toBe(401);
    const wrong = await fetch(metricsUrl(), { headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
  });

  it('moves the daemon, model, tool and GraphQL figures', async () => {
    const member = await ctx.server.createMember();
    ctx.llm.script(
      {
        match: isTurn,
        text: ['Checking.'],
        toolCalls: [{ id: 'call_1', name: 'current_time', args: {} }],
        usage: { promptTokens: 100, completionTokens: 20 },
      },
      { match: isTurn, text: ['Done.'], usage: { promptTokens: 150, completionTokens: 5 } },
    );
    const created = await member.client.query(CreateChatMutation, { input: { text: 'Time?' } });
    const stream = subscribeChat(member.client, created.createChat.id);
    try {
      await stream.waitFor(isStatus('WAITING'));
      const samples = await scrape();
      const value = (key: string) => samples.get(key) ?? 0;
      const model = [...samples.keys()]
        .find((key) => key.startsWith('agentgraph_llm_tokens_total{'))
        ?.match(/model="([^"]*)"/)?.[1];
      expect(model).toBeDefined();

      expect(value('agentgraph_chat_acquire_duration_seconds_count')).toBeGreaterThan(0);
      expect(value('agentgraph_turn_duration_seconds_count{outcome="completed"}')).toBe(1);
      expect(value(`agentgraph_turn_time_to_first_token_seconds_count{model="${model}"}`)).toBe(1);
      expect(value(`agentgraph_llm_tokens_total{model="${model}",kind="input"}`)).toBe(250);
      expect(value(`agentgraph_llm_tokens_total{model="${model}",kind="output"}`)).toBe(25);
      expect(value(`agentgraph_llm_cost_usd_total{model="${model}"}`)).toBeGreaterThan(0);
      expect(value('agentgraph_tool_calls_total{tool="current_time",result="ok"}')).toBe(1);
      expect(value('agentgraph_tool_duration_seconds_count{tool="current_time"}')).toBe(1);
      expect(value('agentgraph_chats{status="WAITING"}')).toBeGreaterThanOrEqual(1);
      // The chatEvents subscription above is open while this scrape runs.
      expect(value('agentgraph_graphql_subscriptions_active')).toBeGreaterThanOrEqual(1);
      // Yoga's plugin: the createChat mutation was counted.
      const mutations = [...samples.entries()].filter(
        ([key]) =>
          key.startsWith('graphql_envelop_request_duration_count{') &&
          key.includes('operationType="mutation"'),
      );
      expect(mutations.reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThanOrEqual(1);
      expect(samples.has('agentgraph_lease_losses_total')).toBe(true);
      expect(samples.has('agentgraph_sql_statements_total')).toBe(true);
      expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      stream.close();
    }
  });
});
