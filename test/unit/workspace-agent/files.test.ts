import { promises as fs } from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { MAX_READ_BYTES } from '../../../src/workspace/agent/index.js';
import { expectAgentError, startAgentFixture, type AgentFixture } from './support.js';

let agent: AgentFixture;
beforeEach(async () => {
  agent = await startAgentFixture();
});
afterEach(async () => {
  await agent.close();
});

const tenLines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join('');

describe('read and write', () => {
  it('writes a file, creating its directories, and reads it back', async () => {
    const content = 'héllo\nwörld\n';
    const written = await agent.client.writeFile({ path: 'deep/er/file.txt', content });
    expect(written).toEqual({ path: 'deep/er/file.txt', bytes: Buffer.byteLength(content) });
    expect(await fs.readFile(path.join(agent.root, 'deep/er/file.txt'), 'utf8')).toBe(content);

    const read = await agent.client.readFile({ path: 'deep/er/file.txt' });
    expect(read).toEqual({
      path: 'deep/er/file.txt',
      content,
      totalLines: 2,
      startLine: 1,
      endLine: 2,
      truncated: false,
    });
  });

  it('overwrites a file and keeps its mode', async () => {
    const file = path.join(agent.root, 'run.sh');
    await fs.writeFile(file, 'old');
    await fs.chmod(file, 0o755);
    await agent.client.writeFile({ path: 'run.sh', content: 'new' });
    expect(await fs.readFile(file, 'utf8')).toBe('new');
    expect((await fs.stat(file)).mode & 0o777).toBe(0o755);
  });

  it('reads a range of lines with offset and limit', async () => {
    await fs.writeFile(path.join(agent.root, 'ten.txt'), tenLines);
    expect(await agent.client.readFile({ path: 'ten.txt', offset: 3, limit: 2 })).toEqual({
      path: 'ten.txt',
      content: 'line 3\nline 4\n',
      totalLines: 10,
      startLine: 3,
      endLine: 4,
      truncated: false,
    });
    const toEnd = await agent.client.readFile({ path: 'ten.txt', offset: 9, limit: 50 });
    expect(toEnd).toMatchObject({ content: 'line 9\nline 10\n', startLine: 9, endLine: 10 });
  });

  it('counts a last line without a newline and reads an empty file', async () => {
    await fs.writeFile(path.join(agent.root, 'open.txt'), 'a\nb');
    expect(await agent.client.readFile({ path: 'open.txt', offset: 2 })).toMatchObject({
      content: 'b',
      totalLines: 2,
      endLine: 2,
    });
    await fs.writeFile(path.join(agent.root, 'empty.txt'), '');
    expect(await agent.client.readFile({ path: 'empty.txt' })).toMatchObject({
      content: '',
      totalLines: 0,
      startLine: 1,
      endLine: 0,
    });
  });

  it('refuses an offset past the end, a missing file and a directory', async () => {
    await fs.writeFile(path.join(agent.root, 'ten.txt'), tenLines);
    await expectAgentError(
      agent.client.readFile({ path: 'ten.txt', offset: 11 }),
      'BAD_REQUEST',
      400,
    );
    await expectAgentError(agent.client.readFile({ path: 'missing.txt' }), 'NOT_FOUND', 404);
    await fs.mkdir(path.join(agent.root, 'dir'));
    await expectAgentError(agent.client.readFile({ path: 'dir' }), 'BAD_REQUEST', 400);
  });

  it('caps the bytes returned and says so', async () => {
    const line = `${'€'.repeat(100)}\n`; // 301 bytes, so the cap falls inside a character
    const lineCount = Math.ceil((2 * MAX_READ_BYTES) / Buffer.byteLength(line));
    await fs.writeFile(path.join(agent.root, 'big.txt'), line.repeat(lineCount));
    const read = await agent.client.readFile({ path: 'big.txt' });
    expect(read.truncated).toBe(true);
    expect(read.totalLines).toBe(lineCount);
    expect(Buffer.byteLength(read.content)).toBeLessThanOrEqual(MAX_READ_BYTES);
    expect(Buffer.byteLength(read.content)).toBeGreaterThan(MAX_READ_BYTES - 4);
    expect(read.content).not.toContain('\uFFFD');
    expect(read.endLine).toBe(Math.ceil(MAX_READ_BYTES / Buffer.byteLength(line)));
  });
});

describe('edit', () => {
  it('replaces exactly one occurrence, literally', async () => {
    await fs.writeFile(path.join(agent.root, 'a.ts'), 'const a = 1;\nconst b = 2;\n');
    const result = await agent.client.editFiles({
      files: [{ path: 'a.ts', edits: [{ search: 'const b = 2;', replace: "const b = '$&';" }] }],
    });
    expect(result).toEqual({ files: [{ path: 'a.ts', replacements: 1 }] });
    expect(await fs.readFile(path.join(agent.root, 'a.ts'), 'utf8')).toBe(
      "const a = 1;\nconst b = '$&';\n",
    );
  });

  it('applies edits in order and replaceAll to every occurrence', async () => {
    await fs.writeFile(path.join(agent.root, 'b.txt'), 'x x x\n');
    const result = await agent.client.editFiles({
      files: [
        {
          path: 'b.txt',
          edits: [
            { search: 'x', replace: 'y', replaceAll: true },
            { search: 'y y y', replace: 'done' },
          ],
        },
      ],
    });
    expect(result.files).toEqual([{ path: 'b.txt', replacements: 4 }]);
    expect(await fs.readFile(path.join(agent.root, 'b.txt'), 'utf8')).toBe('done\n');
  });

  it('changes no file when an edit of a later file does not apply', async () => {
    const first = path.join(agent.root, 'first.txt');
    const second = path.join(agent.root, 'second.txt');
    await fs.writeFile(first, 'alpha\n');
    await fs.writeFile(second, 'beta\n');
    const error = await expectAgentError(
      agent.client.editFiles({
        files: [
          { path: 'first.txt', edits: [{ search: 'alpha', replace: 'ALPHA' }] },
          { path: 'second.txt', edits: [{ search: 'gamma', replace: 'GAMMA' }] },
        ],
      }),
      'EDIT_NOT_FOUND',
      409,
    );
    expect(error.details).toEqual({
      path: 'second.txt',
      fileIndex: 1,
      editIndex: 0,
      occurrences: 0,
    });
    expect(error.message).toContain('second.txt');
    expect(await fs.readFile(first, 'utf8')).toBe('alpha\n');
    expect(await fs.readFile(second, 'utf8')).toBe('beta\n');
    expect((await fs.readdir(agent.root)).sort()).toEqual(['first.txt', 'second.txt']);
  });

  it('refuses an ambiguous search without replaceAll', async () => {
    await fs.writeFile(path.join(agent.root, 'c.txt'), 'aaa\n');
    const error = await expectAgentError(
      agent.client.editFiles({
        files: [{ path: 'c.txt', edits: [{ search: 'aa', replace: 'b' }] }],
      }),
      'CONFLICT',
      409,
    );
    expect(error.details?.occurrences).toBe(2);
    expect(await fs.readFile(path.join(agent.root, 'c.txt'), 'utf8')).toBe('aaa\n');
  });

  it('refuses to edit a missing file', async () => {
    await expectAgentError(
      agent.client.editFiles({
        files: [{ path: 'nope.txt', edits: [{ search: 'a', replace: 'b' }] }],
      }),
      'NOT_FOUND',
      404,
    );
  });
});

describe('list', () => {
  it('lists names, types and sizes, sorted, without following symlinks', async () => {
    await fs.writeFile(path.join(agent.root, 'b.txt'), '12345');
    await fs.mkdir(path.join(agent.root, 'a-dir'));
    await fs.symlink('b.txt', path.join(agent.root, 'c-link'));
    const { entries } = await agent.client.listDirectory({ path: '.' });
    expect(entries.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: 'a-dir', type: 'directory' },
      { name: 'b.txt', type: 'file' },
      { name: 'c-link', type: 'symlink' },
    ]);
    expect(entries[1]?.size).toBe(5);
    await expectAgentError(agent.client.listDirectory({ path: 'b.txt' }), 'BAD_REQUEST', 400);
  });
});
