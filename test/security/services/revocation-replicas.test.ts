import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_ACTIVE_LOG, topics } from '../../../src/pubsub/index.js';
import { CHAT_LIST_EVENTS, type ChatListEventData } from '../../support/fixtures.js';
import { createChat, useReplicaCluster } from '../../support/replica.js';

/**
 * Issue #8, row 8, across processes: a token revoked on replica A closes the sockets it holds on
 * replica B, through the pub/sub control message (accessEnded), and B delivers nothing for what
 * happens after the revocation.
 */
describe('revocation across replicas (issue #8, row 8)', () => {
  const context = useReplicaCluster([
    { name: 'a', daemon: false },
    // B logs (at debug) each pub/sub subscription once it is active: the test waits for that.
    { name: 'b', daemon: false, env: { LOG_LEVEL: 'debug' } },
  ]);

  it('closes the revoked token’s socket on the other replica (4403), which then delivers nothing', async () => {
    const { cluster } = context;
    const a = cluster.replicas['a']!;
    const b = cluster.replicas['b']!;
    const member = a.client(cluster.memberToken);
    const created = await member.query<{
      createApiToken: { token: string; apiToken: { id: string } };
    }>('mutation { createApiToken(name: "doomed") { token apiToken { id } } }');
    const doomedOnB = b.client(created.createApiToken.token);

    const { viewer } = await member.query<{ viewer: { id: string } }>('{ viewer { id } }');
    const memberList = topics.chatList(viewer.id).channel;
    /** B's acknowledgement that `count` chat-list subscriptions of the member are active. */
    const listSubscriptionsActiveOnB = (count: number) =>
      b.waitForLog(
        () =>
          b
            .logs()
            .filter((line) => line.msg === SUBSCRIPTION_ACTIVE_LOG && line.channel === memberList)
            .length >= count,
      );
    const stream = doomedOnB.subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    // A socket of the member's other token on B must live on.
    const bystander = b.client(cluster.memberToken).subscribe<ChatListEventData>(CHAT_LIST_EVENTS);
    try {
      await listSubscriptionsActiveOnB(2);

      const closedAt = stream.error().then(() => performance.now());
      await member.query('mutation ($id: ID!) { revokeApiToken(id: $id) }', {
        id: created.createApiToken.apiToken.id,
      });
      const revokedAt = performance.now();
      const afterChat = await createChat(member, 'created after the revocation');

      const closedAfterMs = Math.max(0, (await closedAt) - revokedAt);
      const errors = await stream.error();
      expect(errors.map((error) => (error as { code?: number }).code)).toEqual([4403]);
      expect(stream.events.map((event) => event.chatListEvents.chatId)).not.toContain(afterChat);
      await b.waitForLog((line) => line.msg === 'closed WebSockets of access ended elsewhere');

      // Only the revoked token lost access: the other one on B sees the new chat.
      await bystander.waitFor((event) => event.chatListEvents.chatId === afterChat);
      // The issue asks for "within a second"; reported, not asserted (no timed assertions).
      console.info(`revoked on A -> socket on B closed in ${closedAfterMs.toFixed(0)} ms`);
    } finally {
      await Promise.all([stream.close(), bystander.close()]);
    }
  });
});
