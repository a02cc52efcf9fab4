import { describe, expect, it } from 'vitest';
import { CreateChatMutation } from '../../support/operations.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import type { TestServer } from '../../support/server.js';

const PAGE = 50;

async function statementsSoFar(server: TestServer): Promise<number> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('agentgraph_sql_statements_total '));
  return Number(line?.split(' ')[1]);
}

describe('a page of chats costs a fixed number of queries (no N+1)', () => {
  // No daemon: chats stay PENDING, so a second message is queued behind the first.
  const ctx = useDaemonServer({ env: { DAEMON_ENABLED: 'false' } });

  it(`reads ${PAGE} chats with hasUnread, queuedMessages and usage in one-digit queries`, async () => {
    const member = await ctx.server.createMember();
    const ids: string[] = [];
    for (let i = 0; i < PAGE; i++) {
      const created = await member.client.query(CreateChatMutation, { input: { text: `c${i}` } });
      ids.push(created.createChat.id);
    }
    const queuedOn = ids[7]!;
    await member.client.query(
      `mutation ($chatId: ID!) { sendMessage(input: { chatId: $chatId, text: "later", busyBehavior: QUEUE }) { queuedMessage { id } } }`,
      { chatId: queuedOn },
    );

    // An answer the member has not read, with its usage, on another chat.
    const answeredOn = ids[21]!;
    await ctx.server.app.deps.prisma.chatMessage.create({
      data: {
        chatId: answeredOn,
        role: 'ASSISTANT',
        parts: [{ type: 'TEXT', text: 'answer' }],
        inputTokens: 12,
        costMicros: 345,
      },
    });

    const before = await statementsSoFar(ctx.server);
    const page = await member.client.query<{
      chats: {
        edges: {
          node: {
            id: string;
            hasUnread: boolean;
            queuedMessages: { text: string }[];
            usage: { costMicros: number };
          };
        }[];
      };
    }>(
      `{ chats(first: ${PAGE}) { edges { node {
          id title status hasUnread labels { key value }
          queuedMessages { id text } usage { inputTokens costMicros }
          owner { id } modelConfig { id } } } } }`,
    );
    const statements = (await statementsSoFar(ctx.server)) - before;

    const nodes = page.chats.edges.map((edge) => edge.node);
    expect(nodes).toHaveLength(PAGE);
    expect(nodes.find((n) => n.id === queuedOn)?.queuedMessages.map((q) => q.text)).toEqual([
      'later',
    ]);
    expect(nodes.filter((n) => n.queuedMessages.length > 0)).toHaveLength(1);
    const answered = nodes.find((n) => n.id === answeredOn);
    expect(answered).toMatchObject({ hasUnread: true, usage: { costMicros: 345 } });
    const others = nodes.filter((n) => n.id !== answeredOn);
    expect(others.every((n) => !n.hasUnread && n.usage.costMicros === 0)).toBe(true);
    // Authentication, the page itself, its relations and one query per aggregate: it must not
    // grow with the page (it was ~3 per chat).
    expect(statements).toBeLessThan(10);
  });
});
