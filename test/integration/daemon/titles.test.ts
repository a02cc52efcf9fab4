import { describe, expect, it } from 'vitest';
import { TITLE_SYSTEM_PROMPT } from '../../../src/chats/title-service.js';
import { isStatus, subscribeChat } from '../../support/chat-stream.js';
import { answering, useDaemonServer } from '../../support/daemon-server.js';
import { createGate } from '../../support/llm.js';
import { CreateChatMutation, SendMessageMutation } from '../../support/operations.js';

const isTitleRequest = (body: {
  stream?: boolean;
  messages: { role: string; content?: unknown }[];
}) => body.stream !== true && body.messages[0]?.content === TITLE_SYSTEM_PROMPT;

describe('titles (B22)', () => {
  const ctx = useDaemonServer();

  it('regenerateChatTitle uses the first user turn and the last three turns', async () => {
    const member = await ctx.server.createMember();
    const gate = createGate();
    ctx.llm.script(
      { match: answering('turn one'), gate: gate.promise, text: 'answer one' },
      { match: isTitleRequest, text: 'First title' },
    );
    const created = await member.client.query(CreateChatMutation, { input: { text: 'turn one' } });
    const chatId = created.createChat.id;
    const stream = subscribeChat(member.client, chatId);
    try {
      await stream.next();
      gate.open();
      await stream.waitFor((e) => e.chatEvents.__typename === 'TitleEvent');
      for (const text of ['turn two', 'turn three']) {
        ctx.llm.script({ match: answering(text), text: `answer ${text.split(' ')[1]}` });
        await member.client.query(SendMessageMutation, { input: { chatId, text } });
        await stream.waitFor(() =>
          stream.events.some(
            (e) =>
              e.chatEvents.__typename === 'MessageEvent' &&
              e.chatEvents.message.parts.some(
                (p) => 'text' in p && p.text === `answer ${text.split(' ')[1]}`,
              ),
          ),
        );
      }
      await stream.waitFor(isStatus('WAITING'));
      ctx.llm.script({ match: isTitleRequest, text: '"Count to three."' });
      const result = await member.client.query<{ regenerateChatTitle: { title: string } }>(
        'mutation ($id: ID!) { regenerateChatTitle(id: $id) { title } }',
        { id: chatId },
      );
      // Quotes and trailing punctuation are stripped.
      expect(result.regenerateChatTitle.title).toBe('Count to three');
      const request = ctx.llm.requests.filter((r) => isTitleRequest(r.body)).at(-1)!;
      const conversation = String(request.body.messages[1]?.content);
      // The first user turn, then the last three turns.
      expect(conversation.split('\n')).toEqual([
        '[user]: turn one',
        '[assistant]: answer two',
        '[user]: turn three',
        '[assistant]: answer three',
      ]);
      await stream.waitFor(
        (e) => e.chatEvents.__typename === 'TitleEvent' && e.chatEvents.title === 'Count to three',
      );
    } finally {
      await stream.close();
    }
  });

  it('never overwrites a title the user set', async () => {
    const member = await ctx.server.createMember();
    ctx.llm.script({ match: answering('rename me'), text: 'ok' });
    const created = await member.client.query(CreateChatMutation, { input: { text: 'rename me' } });
    const chatId = created.createChat.id;
    await member.client.query(
      'mutation ($id: ID!) { updateChat(input: { id: $id, title: "Mine" }) { id } }',
      {
        id: chatId,
      },
    );
    const stream = subscribeChat(member.client, chatId);
    try {
      await stream.waitFor(isStatus('WAITING'));
      const chat = await ctx.server.app.deps.prisma.chat.findUniqueOrThrow({
        where: { id: chatId },
      });
      expect(chat.title).toBe('Mine');
      expect(
        ctx.llm.requests.filter(
          (r) =>
            isTitleRequest(r.body) && String(r.body.messages[1]?.content).includes('rename me'),
        ),
      ).toEqual([]);
    } finally {
      await stream.close();
    }
  });
});
