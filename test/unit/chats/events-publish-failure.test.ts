import { PrismaPg } from '@prisma/adapter-pg';
import { describe, expect, it } from 'vitest';
import { createChatEvents } from '../../../src/chats/events.js';
import { PrismaClient } from '../../../src/generated/prisma/client.js';
import { createLogger } from '../../../src/logger.js';
import { createInProcessPubSub } from '../../../src/pubsub/in-process.js';
import { topics } from '../../../src/pubsub/topics.js';

const CHAT_ID = '00000000-0000-4000-8000-000000000001';
const OWNER_ID = '00000000-0000-4000-8000-000000000002';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => lines.push(JSON.parse(line)) };
  return { lines, logger: createLogger('debug', {}, { destination }) };
}

/** A failed publish is logged once by the publisher, with its topic only, and never thrown. */
describe('chat events when publishing fails', () => {
  // Nothing listens on port 1: every query fails at once, as in a database outage.
  const unreachable = new PrismaClient({
    adapter: new PrismaPg({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }),
  });

  it('a subscriber that throws: the publish resolves, one warning names the topic, not the payload', async () => {
    const pubsub = createInProcessPubSub();
    await pubsub.subscribe(topics.chatEvents(CHAT_ID), () => {
      throw new Error('subscriber broke');
    });
    const { lines, logger } = capture();
    const events = createChatEvents({ pubsub, prisma: unreachable, logger });
    const secret = 'the user wrote this';

    await expect(
      events.status({ id: CHAT_ID, ownerId: OWNER_ID, status: 'ERROR', lastError: secret }),
    ).resolves.toBeUndefined();

    const warnings = lines.filter((line) => line['msg'] === 'publish failed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ topic: topics.chatEvents(CHAT_ID).channel });
    expect(JSON.stringify(lines)).not.toContain(secret);
  });

  it('a queue event whose read fails (database down) resolves and is logged once', async () => {
    const { lines, logger } = capture();
    const events = createChatEvents({
      pubsub: createInProcessPubSub(),
      prisma: unreachable,
      logger,
    });

    await expect(events.queue(CHAT_ID)).resolves.toBeUndefined();

    const warnings = lines.filter((line) => line['msg'] === 'publish failed');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ topic: topics.chatEvents(CHAT_ID).channel });
  });
});
