import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SYSTEM_PROMPT,
  SYSTEM_PROMPT_KEY,
  getSystemPrompt,
} from '../../../src/settings/service.js';
import type { TestClient } from '../../support/client.js';
import { startTestServer, type TestServer } from '../../support/server.js';

const GET = '{ systemPrompt }';
const SET = 'mutation ($prompt: String!) { setSystemPrompt(prompt: $prompt) }';

describe('system prompt (B23)', () => {
  let server: TestServer;
  let member: TestClient;

  beforeAll(async () => {
    server = await startTestServer({ env: { DAEMON_ENABLED: 'false' } });
    member = (await server.createMember()).client;
  });
  afterAll(() => server?.close());

  const prisma = () => server.app.deps.prisma;
  const storedRow = () => prisma().siteConfig.findUnique({ where: { key: SYSTEM_PROMPT_KEY } });

  it('starts with the built-in default, readable by every user', async () => {
    expect((await server.admin.query<{ systemPrompt: string }>(GET)).systemPrompt).toBe(
      DEFAULT_SYSTEM_PROMPT,
    );
    expect((await member.query<{ systemPrompt: string }>(GET)).systemPrompt).toBe(
      DEFAULT_SYSTEM_PROMPT,
    );
    expect(await getSystemPrompt(prisma())).toBe(DEFAULT_SYSTEM_PROMPT);
  });

  it('sets the prompt and restores the default with an empty string', async () => {
    const prompt = 'You are a terse agent.\nAnswer in one line.';
    const set = await server.admin.query<{ setSystemPrompt: string }>(SET, { prompt });
    expect(set.setSystemPrompt).toBe(prompt);
    expect((await member.query<{ systemPrompt: string }>(GET)).systemPrompt).toBe(prompt);
    expect(await getSystemPrompt(prisma())).toBe(prompt);
    expect((await storedRow())?.value).toBe(prompt);

    const changed = await server.admin.query<{ setSystemPrompt: string }>(SET, {
      prompt: 'Second',
    });
    expect(changed.setSystemPrompt).toBe('Second');
    expect(await getSystemPrompt(prisma())).toBe('Second');

    const reset = await server.admin.query<{ setSystemPrompt: string }>(SET, { prompt: '' });
    expect(reset.setSystemPrompt).toBe(DEFAULT_SYSTEM_PROMPT);
    expect((await server.admin.query<{ systemPrompt: string }>(GET)).systemPrompt).toBe(
      DEFAULT_SYSTEM_PROMPT,
    );
    expect(await storedRow()).toBeNull();
  });

  it('treats a blank prompt as empty', async () => {
    await server.admin.query(SET, { prompt: 'Custom' });
    const reset = await server.admin.query<{ setSystemPrompt: string }>(SET, { prompt: ' \n ' });
    expect(reset.setSystemPrompt).toBe(DEFAULT_SYSTEM_PROMPT);
    expect(await storedRow()).toBeNull();
  });

  it('forbids members to set it and changes nothing', async () => {
    await server.admin.query(SET, { prompt: 'Admin prompt' });
    for (const prompt of ['Member prompt', '']) {
      const { codes } = await member.expectError(SET, { prompt });
      expect(codes).toEqual(['FORBIDDEN']);
    }
    expect(await getSystemPrompt(prisma())).toBe('Admin prompt');
  });

  it('rejects an oversized prompt with BAD_USER_INPUT and changes nothing', async () => {
    await server.admin.query(SET, { prompt: 'Before' });
    const { errors } = await server.admin.expectError(SET, { prompt: 'x'.repeat(100_001) });
    expect(errors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'prompt' });
    expect(await getSystemPrompt(prisma())).toBe('Before');
  });
});
