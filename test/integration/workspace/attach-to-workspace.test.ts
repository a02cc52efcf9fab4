import { promises as fs } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { firstUserText, type ScriptedResponse } from '../../../src/testing/fake-llm/index.js';
import type { TestClient } from '../../support/client.js';
import { useDaemonServer } from '../../support/daemon-server.js';
import { isTurn } from '../../support/llm.js';
import {
  offeredTools,
  resultOf,
  runFirstTurn,
  textStep,
  toolStep,
  turnRequests,
} from './support.js';

/**
 * attach_to_workspace (issue #10): a file attached to a message of the chat is copied into the
 * workspace byte for byte; a file id from anywhere else (another user's, one not in this chat)
 * and a path outside the workspace are error results; an existing file is kept unless overwrite.
 */
const UPLOAD = `mutation ($file: File!) { uploadFile(file: $file) { id } }`;
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0xff, 7]);

async function upload(client: TestClient, bytes: Uint8Array, name: string): Promise<string> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: UPLOAD, variables: { file: null } }));
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(client.httpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}` },
    body: form,
  });
  const result = (await response.json()) as { data: { uploadFile: { id: string } } };
  return result.data.uploadFile.id;
}

/** The chat's first message carries its files after the text (a text file is inlined). */
const startingWith =
  (text: string) =>
  (step: ScriptedResponse): ScriptedResponse => ({
    ...step,
    match: (body) => isTurn(body) && firstUserText(body).startsWith(text),
  });

describe('attach_to_workspace (issue #10)', () => {
  const ctx = useDaemonServer();

  it('copies a file of the conversation into the workspace and refuses the attacks', async () => {
    const member = await ctx.server.createMember();
    const thief = await ctx.server.createMember();
    const log = await upload(
      member.client,
      new TextEncoder().encode('attached log line\n'),
      'a.log',
    );
    const image = await upload(member.client, PNG, 'shot.png');
    const notInChat = await upload(member.client, new TextEncoder().encode('elsewhere'), 'b.txt');
    const stolen = await upload(thief.client, new TextEncoder().encode('not yours'), 'c.txt');
    const text = 'Put my attachments in the workspace';
    const attach = (file_id: string, filePath: string, overwrite?: boolean) => ({
      name: 'attach_to_workspace',
      args: { file_id, path: filePath, ...(overwrite === undefined ? {} : { overwrite }) },
    });
    const steps = [
      toolStep(text, [
        { id: 'create', name: 'create_workspace', args: { template: 'node-basic' } },
      ]),
      toolStep(text, [
        { id: 'log', ...attach(log, 'inputs/a.log') },
        { id: 'image', ...attach(image, 'inputs/shot.png') },
      ]),
      toolStep(text, [
        { id: 'read', name: 'read_file', args: { path: 'inputs/a.log' } },
        { id: 'again', ...attach(image, 'inputs/a.log') },
        { id: 'stolen', ...attach(stolen, 'stolen.txt') },
        { id: 'elsewhere', ...attach(notInChat, 'elsewhere.txt') },
        { id: 'garbage', ...attach('not-a-uuid', 'garbage.txt') },
        { id: 'escape', ...attach(log, '../escape.log') },
      ]),
      toolStep(text, [{ id: 'over', ...attach(image, 'inputs/a.log', true) }]),
      textStep(text, 'Attached.'),
    ];
    ctx.llm.script(...steps.map(startingWith(text)));
    const { stream } = await runFirstTurn(member.client, text, { fileIds: [log, image] });
    try {
      const created = resultOf(stream, 'create').result['workspace'] as { id: string };
      const dir = path.join(ctx.server.env['WORKSPACES_DIR']!, created.id);
      expect(resultOf(stream, 'log')).toMatchObject({
        isError: false,
        result: { path: 'inputs/a.log', bytes: 18, media_type: 'text/plain', name: 'a.log' },
      });
      expect(resultOf(stream, 'image').isError).toBe(false);
      expect(new Uint8Array(await fs.readFile(path.join(dir, 'inputs/shot.png')))).toEqual(PNG);
      expect(resultOf(stream, 'read')).toMatchObject({
        isError: false,
        result: { content: 'attached log line\n' },
      });
      // An existing file is kept without overwrite (CONFLICT), replaced with it.
      expect(resultOf(stream, 'again')).toMatchObject({
        isError: true,
        result: { code: 'CONFLICT' },
      });
      for (const id of ['stolen', 'elsewhere', 'garbage']) {
        expect(resultOf(stream, id)).toMatchObject({
          isError: true,
          result: { code: 'NOT_FOUND' },
        });
      }
      expect(resultOf(stream, 'escape')).toMatchObject({
        isError: true,
        result: { code: 'PATH_OUTSIDE_WORKSPACE' },
      });
      await expect(fs.access(path.join(dir, 'stolen.txt'))).rejects.toThrow();
      await expect(fs.access(path.join(dir, 'elsewhere.txt'))).rejects.toThrow();
      await expect(fs.access(path.join(dir, '..', 'escape.log'))).rejects.toThrow();
      expect(resultOf(stream, 'over')).toMatchObject({
        isError: false,
        result: { bytes: PNG.length },
      });
      expect(new Uint8Array(await fs.readFile(path.join(dir, 'inputs/a.log')))).toEqual(PNG);
    } finally {
      await stream.close();
    }
  });

  it('is offered in DEFAULT mode, not in PLAN mode', async () => {
    const member = await ctx.server.createMember();
    const planText = 'Plan with attachments';
    const defaultText = 'Default with attachments';
    ctx.llm.script(textStep(planText, 'planned'), textStep(defaultText, 'done'));
    const plan = await runFirstTurn(member.client, planText, { mode: 'PLAN' });
    const normal = await runFirstTurn(member.client, defaultText);
    await plan.stream.close();
    await normal.stream.close();
    expect(offeredTools(turnRequests(ctx.llm, planText)[0]!)).not.toContain('attach_to_workspace');
    expect(offeredTools(turnRequests(ctx.llm, defaultText)[0]!)).toContain('attach_to_workspace');
  });
});
