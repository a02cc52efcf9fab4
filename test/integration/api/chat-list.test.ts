import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../../support/client.js';
import {
  createChat,
  createDefaultModel,
  insertMessage,
  setChatStatus,
  type ChatData,
} from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const LIST = `query ($first: Int, $after: String, $filter: ChatFilter) {
  chats(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id title status archived pinOrder children { id } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
const PIN = `mutation ($id: ID!, $pinOrder: Int) { pinChat(id: $id, pinOrder: $pinOrder) { id pinOrder } }`;
const UNPIN = `mutation ($id: ID!) { unpinChat(id: $id) { id pinOrder } }`;
const ARCHIVE = `mutation ($id: ID!) { archiveChat(id: $id) { id archived pinOrder } }`;
const UNARCHIVE = `mutation ($id: ID!) { unarchiveChat(id: $id) { id archived } }`;
const DELETE = `mutation ($id: ID!) { deleteChat(id: $id) }`;
const FAMILY = `query ($id: ID!) {
  chat(id: $id) { id archived parent { id } root { id } children { id archived status } } }`;

interface ListNode {
  id: string;
  title: string;
  status: string;
  archived: boolean;
  pinOrder: number | null;
  children: { id: string }[];
}
interface ListPage {
  edges: { cursor: string; node: ListNode }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

describe('chat list (B19, B24, B25)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    await createDefaultModel(server);
  });
  afterAll(() => server?.close());

  const prisma = () => server.app.deps.prisma;
  const member = async () => (await server.createMember()).client;

  async function list(client: TestClient, variables: Record<string, unknown> = {}) {
    return (await client.query<{ chats: ListPage }>(LIST, variables)).chats;
  }
  const titles = (page: ListPage) => page.edges.map((edge) => edge.node.title);
  const ids = (page: ListPage) => page.edges.map((edge) => edge.node.id);

  /** Creates chats titled by `names`, each with a strictly later activity than the one before. */
  async function chatsInOrder(client: TestClient, names: string[]) {
    const chats: ChatData[] = [];
    const base = Date.now() - 60 * 60_000;
    for (const [index, name] of names.entries()) {
      const chat = await createChat(client, { text: name });
      await prisma().chat.update({
        where: { id: chat.id },
        data: { lastActivityAt: new Date(base + index * 1000) },
      });
      chats.push(chat);
    }
    return chats;
  }

  /** A subagent chat of `parent`, as the daemon's spawn_agent would create it. */
  async function childOf(parent: ChatData, title = 'child') {
    const row = await prisma().chat.findUniqueOrThrow({ where: { id: parent.id } });
    return prisma().chat.create({
      data: {
        ownerId: row.ownerId,
        title,
        status: 'RUNNING',
        parentId: parent.id,
        rootId: row.rootId ?? parent.id,
        modelConfigId: row.modelConfigId,
        lastActivityAt: new Date(Date.now() + 60_000),
      },
    });
  }

  it('lists root chats only, with their children nested', async () => {
    const client = await member();
    const [parent] = await chatsInOrder(client, ['parent']);
    const child = await childOf(parent!);
    const grandchild = await prisma().chat.create({
      data: {
        ownerId: child.ownerId,
        title: 'grandchild',
        parentId: child.id,
        rootId: parent!.id,
      },
    });
    const page = await list(client);
    expect(ids(page)).toEqual([parent!.id]);
    expect(page.edges[0]?.node.children).toEqual([{ id: child.id }]);
    const family = await client.query<{
      chat: { parent: { id: string } | null; root: { id: string } | null };
    }>(FAMILY, { id: grandchild.id });
    expect(family.chat).toMatchObject({ parent: { id: child.id }, root: { id: parent!.id } });
    // Not even a status filter matching only the child lists it.
    expect(ids(await list(client, { filter: { status: ['RUNNING'] } }))).toEqual([]);
  });

  it('orders by newest activity first; a new message moves a chat to the top', async () => {
    const client = await member();
    await chatsInOrder(client, ['a', 'b', 'c']);
    expect(titles(await list(client))).toEqual(['c', 'b', 'a']);
    const a = (await list(client)).edges[2]!.node;
    await setChatStatus(server, a.id, 'WAITING');
    await client.query(
      `mutation ($id: ID!) { sendMessage(input: { chatId: $id, text: "bump" }) { chat { id } } }`,
      { id: a.id },
    );
    expect(titles(await list(client))).toEqual(['a', 'c', 'b']);
    // A chat created now is newer than all of them.
    await createChat(client, { text: 'd' });
    expect(titles(await list(client))).toEqual(['d', 'a', 'c', 'b']);
  });

  it('puts pinned chats first by pinOrder; explicit pinOrder shifts others; unpin compacts', async () => {
    const client = await member();
    const [a, b, c, d, e] = await chatsInOrder(client, ['a', 'b', 'c', 'd', 'e']);
    expect(titles(await list(client))).toEqual(['e', 'd', 'c', 'b', 'a']);

    const pinA = await client.query<{ pinChat: { pinOrder: number } }>(PIN, { id: a!.id });
    expect(pinA.pinChat.pinOrder).toBe(1);
    await client.query(PIN, { id: b!.id });
    expect(titles(await list(client))).toEqual(['a', 'b', 'e', 'd', 'c']);

    // Pin c at position 1: a and b shift down.
    const pinC = await client.query<{ pinChat: { pinOrder: number } }>(PIN, {
      id: c!.id,
      pinOrder: 1,
    });
    expect(pinC.pinChat.pinOrder).toBe(1);
    let page = await list(client);
    expect(titles(page)).toEqual(['c', 'a', 'b', 'e', 'd']);
    expect(page.edges.map((edge) => edge.node.pinOrder)).toEqual([1, 2, 3, null, null]);

    // Re-pinning an already pinned chat moves it.
    await client.query(PIN, { id: c!.id, pinOrder: 3 });
    page = await list(client);
    expect(titles(page)).toEqual(['a', 'b', 'c', 'e', 'd']);
    expect(page.edges.map((edge) => edge.node.pinOrder)).toEqual([1, 2, 3, null, null]);

    // A pinOrder past the end appends.
    const far = await client.query<{ pinChat: { pinOrder: number } }>(PIN, {
      id: d!.id,
      pinOrder: 99,
    });
    expect(far.pinChat.pinOrder).toBe(4);

    // Unpinning compacts the rest to 1..n.
    const unpinned = await client.query<{ unpinChat: { pinOrder: number | null } }>(UNPIN, {
      id: a!.id,
    });
    expect(unpinned.unpinChat.pinOrder).toBeNull();
    page = await list(client);
    expect(titles(page)).toEqual(['b', 'c', 'd', 'e', 'a']);
    expect(page.edges.map((edge) => edge.node.pinOrder)).toEqual([1, 2, 3, null, null]);
    // Unpinning an unpinned chat changes nothing.
    await client.query(UNPIN, { id: e!.id });
    expect(titles(await list(client))).toEqual(['b', 'c', 'd', 'e', 'a']);

    const zero = await client.expectError(PIN, { id: e!.id, pinOrder: 0 });
    expect(zero.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'pinOrder' });
  });

  it('keeps pin orders distinct when chats are pinned and unpinned concurrently', async () => {
    const client = await member();
    const chats = await chatsInOrder(client, ['a', 'b', 'c', 'd', 'e', 'f']);
    await Promise.all(chats.map((chat) => client.query(PIN, { id: chat.id, pinOrder: 1 })));
    let page = await list(client);
    expect(page.edges.map((edge) => edge.node.pinOrder)).toEqual([1, 2, 3, 4, 5, 6]);
    await Promise.all(chats.slice(0, 3).map((chat) => client.query(UNPIN, { id: chat.id })));
    page = await list(client);
    expect(page.edges.map((edge) => edge.node.pinOrder)).toEqual([1, 2, 3, null, null, null]);
  });

  it('does not pin subagent chats or archived chats', async () => {
    const client = await member();
    const [root, other] = await chatsInOrder(client, ['root', 'other']);
    const child = await childOf(root!);
    expect((await client.expectError(PIN, { id: child.id })).codes).toEqual(['BAD_USER_INPUT']);
    await client.query(ARCHIVE, { id: other!.id });
    expect((await client.expectError(PIN, { id: other!.id })).codes).toEqual(['BAD_USER_INPUT']);
    expect(
      await prisma().chat.count({
        where: { pinOrder: { not: null }, id: { in: [child.id, other!.id] } },
      }),
    ).toBe(0);
  });

  it('pages with stable cursors: chats created between pages neither repeat nor go missing', async () => {
    const client = await member();
    const names = Array.from({ length: 7 }, (_, i) => `chat ${i + 1}`);
    const chats = await chatsInOrder(client, names);
    // Two pinned chats so the pages cross the pinned/unpinned boundary.
    await client.query(PIN, { id: chats[0]!.id });
    await client.query(PIN, { id: chats[1]!.id });
    const expected = ['chat 1', 'chat 2', 'chat 7', 'chat 6', 'chat 5', 'chat 4', 'chat 3'];
    expect(titles(await list(client, { first: 50 }))).toEqual(expected);

    // Page by page, with a new chat created after each page: new chats sort at the top of the
    // unpinned section, so only the one created while the cursor was still on a pinned chat
    // ('new 0', after page 1) sorts after the cursor and shows up; none is seen twice.
    const pages: { titles: string[]; hasPreviousPage: boolean; hasNextPage: boolean }[] = [];
    const cursors: (string | null)[] = [];
    let after: string | null = null;
    while (pages.length < 10) {
      const result: ListPage = await list(client, { first: 2, after });
      const { hasPreviousPage, hasNextPage, endCursor } = result.pageInfo;
      pages.push({ titles: titles(result), hasPreviousPage, hasNextPage });
      cursors.push(endCursor);
      await createChat(client, { text: `new ${pages.length - 1}` });
      if (!hasNextPage) break;
      after = endCursor;
    }
    expect(pages).toEqual([
      { titles: ['chat 1', 'chat 2'], hasPreviousPage: false, hasNextPage: true },
      { titles: ['new 0', 'chat 7'], hasPreviousPage: true, hasNextPage: true },
      { titles: ['chat 6', 'chat 5'], hasPreviousPage: true, hasNextPage: true },
      { titles: ['chat 4', 'chat 3'], hasPreviousPage: true, hasNextPage: false },
    ]);

    // A cursor still names the same position after more inserts (all of them sort before it).
    const tail = await list(client, { first: 2, after: cursors[2] });
    expect(titles(tail)).toEqual(['chat 4', 'chat 3']);
    expect(tail.pageInfo.hasNextPage).toBe(false);
    const second = await list(client, { first: 3, after: cursors[0] });
    expect(titles(second)).toEqual(['new 3', 'new 2', 'new 1']);
  });

  it('rejects a malformed cursor and an out-of-range page size', async () => {
    const client = await member();
    const bad = await client.expectError(LIST, { after: 'garbage' });
    expect(bad.errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect((await client.expectError(LIST, { first: 101 })).codes).toEqual(['BAD_USER_INPUT']);
    expect((await client.expectError(LIST, { first: -1 })).codes).toEqual(['BAD_USER_INPUT']);
  });

  it('filters by archived, status and case-insensitive title search', async () => {
    const client = await member();
    const [alpha, beta, gamma, delta] = await chatsInOrder(client, [
      'Alpha release notes',
      'beta ALPHA test',
      'Gamma 100% done',
      'delta_underscore',
    ]);
    await setChatStatus(server, beta!.id, 'WAITING');
    await setChatStatus(server, gamma!.id, 'ERROR');
    await client.query(ARCHIVE, { id: delta!.id });

    expect(titles(await list(client))).toEqual([
      'Gamma 100% done',
      'beta ALPHA test',
      'Alpha release notes',
    ]);
    expect(titles(await list(client, { filter: { archived: true } }))).toEqual([
      'delta_underscore',
    ]);
    expect(titles(await list(client, { filter: { archived: false } }))).toEqual([
      'Gamma 100% done',
      'beta ALPHA test',
      'Alpha release notes',
    ]);

    expect(titles(await list(client, { filter: { status: ['WAITING', 'ERROR'] } }))).toEqual([
      'Gamma 100% done',
      'beta ALPHA test',
    ]);
    expect(ids(await list(client, { filter: { status: ['PENDING'] } }))).toEqual([alpha!.id]);
    expect(ids(await list(client, { filter: { status: ['RUNNING'] } }))).toEqual([]);

    expect(titles(await list(client, { filter: { search: 'alpha' } }))).toEqual([
      'beta ALPHA test',
      'Alpha release notes',
    ]);
    expect(titles(await list(client, { filter: { search: 'GAMMA' } }))).toEqual([
      'Gamma 100% done',
    ]);
    // LIKE wildcards are literal characters.
    expect(titles(await list(client, { filter: { search: '0%' } }))).toEqual(['Gamma 100% done']);
    expect(titles(await list(client, { filter: { search: '%' } }))).toEqual(['Gamma 100% done']);
    expect(titles(await list(client, { filter: { search: 'a_t' } }))).toEqual([]);
    expect(titles(await list(client, { filter: { search: '_under', archived: true } }))).toEqual([
      'delta_underscore',
    ]);
    // Filters combine.
    expect(
      titles(await list(client, { filter: { search: 'alpha', status: ['PENDING'] } })),
    ).toEqual(['Alpha release notes']);
  });

  it('filters by labels: a chat must carry every given pair (B24)', async () => {
    const client = await member();
    const both = await createChat(client, {
      text: 'both',
      labels: [
        { key: 'team', value: 'core' },
        { key: 'env', value: 'prod' },
        { key: 'extra', value: 'x' },
      ],
    });
    const teamOnly = await createChat(client, {
      text: 'team only',
      labels: [{ key: 'team', value: 'core' }],
    });
    const otherValue = await createChat(client, {
      text: 'other value',
      labels: [
        { key: 'team', value: 'web' },
        { key: 'env', value: 'prod' },
      ],
    });
    const unlabelled = await createChat(client, { text: 'none' });

    const byLabels = async (labels: { key: string; value: string }[]) =>
      ids(await list(client, { filter: { labels } }));
    expect(
      await byLabels([
        { key: 'team', value: 'core' },
        { key: 'env', value: 'prod' },
      ]),
    ).toEqual([both.id]);
    expect(new Set(await byLabels([{ key: 'team', value: 'core' }]))).toEqual(
      new Set([both.id, teamOnly.id]),
    );
    expect(await byLabels([{ key: 'team', value: 'Core' }])).toEqual([]);
    expect(await byLabels([{ key: 'missing', value: 'x' }])).toEqual([]);
    expect(new Set(await byLabels([]))).toEqual(
      new Set([both.id, teamOnly.id, otherValue.id, unlabelled.id]),
    );
    // Another member's identically labelled chat is never listed.
    const stranger = await member();
    await createChat(stranger, { labels: [{ key: 'team', value: 'core' }] });
    expect(new Set(await byLabels([{ key: 'team', value: 'core' }]))).toEqual(
      new Set([both.id, teamOnly.id]),
    );
    const invalid = await client.expectError(LIST, {
      filter: { labels: [{ key: 'bad key', value: 'x' }] },
    });
    expect(invalid.codes).toEqual(['BAD_USER_INPUT']);
  });

  describe('archive and delete (B19)', () => {
    it('archiving a root archives its children; unarchiving restores them', async () => {
      const client = await member();
      const [root, other] = await chatsInOrder(client, ['root', 'other']);
      const child = await childOf(root!);
      await client.query(PIN, { id: root!.id });
      await client.query(PIN, { id: other!.id });

      const archived = await client.query<{
        archiveChat: { archived: boolean; pinOrder: number | null };
      }>(ARCHIVE, { id: root!.id });
      expect(archived.archiveChat).toEqual({ id: root!.id, archived: true, pinOrder: null });
      const family = await client.query<{
        chat: { archived: boolean; children: { id: string; archived: boolean; status: string }[] };
      }>(FAMILY, { id: root!.id });
      expect(family.chat.children).toEqual([
        expect.objectContaining({ id: child.id, archived: true }),
      ]);
      // The archived root left the pins, which were compacted.
      const active = await list(client);
      expect(ids(active)).toEqual([other!.id]);
      expect(active.edges[0]?.node.pinOrder).toBe(1);
      expect(ids(await list(client, { filter: { archived: true } }))).toEqual([root!.id]);
      // Archiving stops what the family runs: the PENDING root is paused, the RUNNING child is
      // asked to pause.
      expect(await prisma().chat.findUniqueOrThrow({ where: { id: root!.id } })).toMatchObject({
        status: 'PAUSED',
      });
      expect(await prisma().chat.findUniqueOrThrow({ where: { id: child.id } })).toMatchObject({
        status: 'RUNNING',
        interruptRequest: 'PAUSE',
      });

      // A child cannot be unarchived while its root is archived.
      expect((await client.expectError(UNARCHIVE, { id: child.id })).codes).toEqual(['CONFLICT']);

      const unarchived = await client.query<{ unarchiveChat: { archived: boolean } }>(UNARCHIVE, {
        id: root!.id,
      });
      expect(unarchived.unarchiveChat.archived).toBe(false);
      const after = await client.query<{
        chat: { archived: boolean; children: { id: string; archived: boolean }[] };
      }>(FAMILY, { id: root!.id });
      expect(after.chat.children).toEqual([
        expect.objectContaining({ id: child.id, archived: false }),
      ]);
      expect(new Set(ids(await list(client)))).toEqual(new Set([root!.id, other!.id]));
      expect(ids(await list(client, { filter: { archived: true } }))).toEqual([]);
    });

    it('deleteChat hides the chat and its children but keeps their messages for usage', async () => {
      const client = await member();
      const [root, keep] = await chatsInOrder(client, ['root', 'keep']);
      const child = await childOf(root!);
      await insertMessage(server, child.id, { text: 'child work', tokens: { costMicros: 1234 } });
      const spent = async () =>
        (
          await client.query<{ usageLimitStatus: { spentMicros: number } }>(
            '{ usageLimitStatus { spentMicros } }',
          )
        ).usageLimitStatus.spentMicros;
      // The child's step is the member's only cost (a user message costs nothing).
      expect(await spent()).toBe(1234);
      await client.query(PIN, { id: root!.id });
      await client.query(PIN, { id: keep!.id });

      const deleted = await client.query<{ deleteChat: boolean }>(DELETE, { id: root!.id });
      expect(deleted.deleteChat).toBe(true);
      const hidden = await prisma().chat.findMany({ where: { id: { in: [root!.id, child.id] } } });
      expect(hidden.map((row) => row.deletedAt)).toEqual([expect.any(Date), expect.any(Date)]);
      // B28: deleting chats must not reset spend, so the messages stay: the root's first user
      // message and the child's step.
      expect(
        await prisma().chatMessage.count({ where: { chatId: { in: [root!.id, child.id] } } }),
      ).toBe(2);
      const children = await client.query<{ chat: unknown }>(FAMILY, { id: child.id });
      expect(children.chat).toBeNull();
      expect(await spent()).toBe(1234);
      const read = await client.query<{ chat: unknown }>(FAMILY, { id: root!.id });
      expect(read.chat).toBeNull();
      const page = await list(client);
      expect(ids(page)).toEqual([keep!.id]);
      expect(page.edges[0]?.node.pinOrder).toBe(1);
      expect((await client.expectError(DELETE, { id: root!.id })).codes).toEqual(['NOT_FOUND']);
    });
  });
});
