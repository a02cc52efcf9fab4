import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  copyTemplate,
  isValidTemplateName,
  listTemplateFiles,
  listTemplates,
  readTemplate,
  readTemplateReadme,
  TemplateError,
  type TemplateErrorCode,
} from '../../../src/workspace/templates.js';

const SHIPPED = fileURLToPath(new URL('../../../templates', import.meta.url));

async function expectTemplateError(call: Promise<unknown>, code: TemplateErrorCode) {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TemplateError);
  expect((error as TemplateError).code).toBe(code);
  return error as TemplateError;
}

describe('the shipped templates', () => {
  it('are two valid templates, each with a startup script', async () => {
    const invalid: string[] = [];
    const templates = await listTemplates(SHIPPED, { onInvalid: (name) => invalid.push(name) });
    expect(invalid).toEqual([]);
    expect(templates.map((t) => t.name)).toEqual(['node-basic', 'python-basic']);
    for (const { name } of templates) {
      const template = await readTemplate(SHIPPED, name);
      expect(template.startupScript).toBe('startup.sh');
      expect(template.description.length).toBeGreaterThan(20);
      expect((await readTemplateReadme(template))?.content).toMatch(/^# /);
    }
  });
});

describe('templates', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'agentgraph-tpl-')));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const write = async (file: string, content: string) => {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), content);
  };

  it('accepts plain names only', () => {
    for (const name of ['node-basic', 'a', 'py_3', 'X9'])
      expect(isValidTemplateName(name)).toBe(true);
    for (const name of ['', '..', '.hidden', 'a/b', '../x', 'a\\b', '-x', 'a b', 'a'.repeat(65)]) {
      expect(isValidTemplateName(name), name).toBe(false);
    }
  });

  it('refuses path tricks before touching the file system', async () => {
    await write('inner/template.json', '{}');
    await expectTemplateError(readTemplate(path.join(dir, 'outer'), '../inner'), 'INVALID_NAME');
    await expectTemplateError(readTemplate(dir, '/etc'), 'INVALID_NAME');
    await expectTemplateError(readTemplate(dir, 'missing'), 'NOT_FOUND');
  });

  it('defaults the metadata when template.json is absent', async () => {
    await write('plain/main.c', 'int main(void) { return 0; }\n');
    expect(await readTemplate(dir, 'plain')).toMatchObject({
      name: 'plain',
      displayName: 'plain',
      description: '',
      startupScript: null,
    });
  });

  it('rejects a broken template.json, and list_templates leaves it out', async () => {
    await write('good/template.json', '{"displayName": "Good"}');
    await write('not-json/template.json', '{');
    await write('escapes/template.json', '{"startupScript": "../../bin/sh"}');
    await write('missing-script/template.json', '{"startupScript": "start.sh"}');
    await write('unknown-field/template.json', '{"startup": "start.sh"}');
    await write('README.md', 'not a template\n');

    const invalid: string[] = [];
    const listed = await listTemplates(dir, { onInvalid: (name) => invalid.push(name) });
    expect(listed).toEqual([{ name: 'good', displayName: 'Good', description: '' }]);
    expect(invalid.sort()).toEqual(['escapes', 'missing-script', 'not-json', 'unknown-field']);
    const error = await expectTemplateError(readTemplate(dir, 'escapes'), 'INVALID_TEMPLATE');
    expect(error.message).toContain('startupScript');
  });

  it('filters by a case-insensitive query over name and description', async () => {
    await write('alpha/template.json', '{"description": "Has Rust in it"}');
    await write('beta/template.json', '{"description": "Go only"}');
    expect((await listTemplates(dir, { query: 'rust' })).map((t) => t.name)).toEqual(['alpha']);
    expect((await listTemplates(dir, { query: 'BETA' })).map((t) => t.name)).toEqual(['beta']);
    expect(await listTemplates(path.join(dir, 'nowhere'))).toEqual([]);
  });

  it('copies every file but template.json, and lists files the same way', async () => {
    await write('t/template.json', '{"startupScript": "scripts/start.sh"}');
    await write('t/scripts/start.sh', 'echo hi\n');
    await write('t/src/a.txt', 'a\n');
    await write('t/.hidden', 'h\n');
    const template = await readTemplate(dir, 't');
    expect((await listTemplateFiles(template)).files).toEqual([
      '.hidden',
      'scripts/start.sh',
      'src/a.txt',
    ]);

    const target = path.join(dir, 'copy');
    await copyTemplate(template, target);
    expect(await fs.readFile(path.join(target, 'src/a.txt'), 'utf8')).toBe('a\n');
    expect(existsSync(path.join(target, '.hidden'))).toBe(true);
    expect(existsSync(path.join(target, 'template.json'))).toBe(false);
    // The target must be new: a second copy over it fails instead of mixing files.
    await expect(copyTemplate(template, target)).rejects.toThrow();
  });
});
