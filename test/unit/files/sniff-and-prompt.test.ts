import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/generated/prisma/client.js';
import { buildPrompt } from '../../../src/daemon/prompt.js';
import type { PromptFile } from '../../../src/files/prompt-files.js';
import { sniffMediaType } from '../../../src/files/sniff.js';

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(
    values.flatMap((v) => (typeof v === 'string' ? [...v].map((c) => c.charCodeAt(0)) : [v])),
  );

describe('sniffMediaType', () => {
  it.each([
    ['image/png', bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0)],
    ['image/jpeg', bytes(0xff, 0xd8, 0xff, 0xe0, 0)],
    ['image/gif', bytes('GIF89a', 1, 0)],
    ['image/webp', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 ')],
    ['application/pdf', bytes('%PDF-1.7\n')],
    ['text/plain', new TextEncoder().encode('héllo\nwörld')],
  ])('recognises %s from its bytes', (type, data) => {
    expect(sniffMediaType(data)).toBe(type);
  });

  it.each([
    ['an ELF binary', bytes(0x7f, 'ELF', 2, 1, 1, 0)],
    ['invalid UTF-8', bytes(0xc3, 0x28, 'abc')],
    ['text with a NUL byte', bytes('abc', 0, 'def')],
    ['nothing', new Uint8Array()],
    ['RIFF that is not WebP', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt ')],
  ])('refuses %s', (_what, data) => {
    expect(sniffMediaType(data)).toBeNull();
  });
});

function userMessage(parts: unknown[]): ChatMessage {
  return {
    id: 1n,
    role: 'USER',
    parts,
    contentVersion: 1,
    deleted: false,
    isSummary: false,
  } as unknown as ChatMessage;
}

describe('buildPrompt with files', () => {
  const png: PromptFile = {
    name: 'a.png',
    mediaType: 'image/png',
    size: 3,
    data: new Uint8Array([1, 2, 3]),
  };
  const log: PromptFile = {
    name: 'x.log',
    mediaType: 'text/plain',
    size: 4,
    data: new TextEncoder().encode('boom'),
  };
  const pdf: PromptFile = {
    name: 'd.pdf',
    mediaType: 'application/pdf',
    size: 1,
    data: bytes('%'),
  };
  const files = new Map([
    ['f-png', png],
    ['f-log', log],
    ['f-pdf', pdf],
  ]);
  const history = [
    userMessage([
      { type: 'TEXT', text: 'look' },
      { type: 'FILE', fileId: 'f-png', name: 'a.png', mediaType: 'image/png' },
      { type: 'FILE', fileId: 'f-log', name: 'x.log', mediaType: 'text/plain' },
      { type: 'FILE', fileId: 'f-pdf', name: 'd.pdf', mediaType: 'application/pdf' },
      { type: 'FILE', fileId: 'gone', name: 'old.txt', mediaType: 'text/plain' },
    ]),
  ];

  it('inlines text, attaches images and PDFs, and notes a missing file', () => {
    const [, user] = buildPrompt({ systemPrompt: 's', history, files, supportsImages: true });
    expect(user).toEqual({
      role: 'user',
      content:
        'look\n\n<attached_file name="x.log">\nboom\n</attached_file>\n\n' +
        '[Attached file "old.txt" is no longer available]',
      attachments: [
        { name: 'a.png', mediaType: 'image/png', base64: 'AQID' },
        { name: 'd.pdf', mediaType: 'application/pdf', base64: 'JQ==' },
      ],
    });
  });

  it('describes images to a model that cannot see them', () => {
    const [, user] = buildPrompt({ systemPrompt: 's', history, files, supportsImages: false });
    expect(user?.role === 'user' && user.attachments?.map((a) => a.name)).toEqual(['d.pdf']);
    expect(user?.content).toContain('[Attached image "a.png" (image/png, 3 bytes)');
  });
});
